from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from ...forms import strip, whole_minor_units
from ...labels import BUDGET_CATEGORY_LABELS
from ...money import CURRENCIES, MAX_AMOUNT, from_minor, to_minor
from .labels import ACTIVITY_LABELS
from .services import VISIT_CATEGORIES


class AmountForm(Form):
    amount = DecimalField(_l("Amount"), places=None, validators=[
        Optional(), NumberRange(min=0, max=MAX_AMOUNT, message=_l("Enter an amount of zero or more.")),
        whole_minor_units("currency")])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c, c) for c in CURRENCIES], default="EUR")


class VisitBudgetForm(Form):
    pass


for _category in VISIT_CATEGORIES:
    setattr(VisitBudgetForm, _category, FormField(AmountForm, label=BUDGET_CATEGORY_LABELS[_category]))


class VisitForm(FlaskForm):
    expert_id = SelectField(_l("Expert"), coerce=int, validators=[Optional()])
    new_expert_name = StringField(_l("New expert's full name"), filters=[strip],
                                  validators=[Optional(), Length(max=200)])
    new_expert_email = EmailField(_l("New expert's e-mail address"), filters=[strip], validators=[
        Optional(), Email(_l("Enter an e-mail address like name@example.org."), check_deliverability=False)])
    host_clinic_id = SelectField(_l("Host clinic"), coerce=int)
    arrival_on = DateField(_l("Arrival"), validators=[DataRequired(_l("Enter the arrival date."))],
                           render_kw={"type": "date"})
    departure_on = DateField(_l("Departure"), validators=[DataRequired(_l("Enter the departure date."))],
                             render_kw={"type": "date"})
    purpose = TextAreaField(_l("Purpose"), filters=[strip], validators=[
        DataRequired(_l("Say what the visit is for.")), Length(max=3000)])
    purpose_ru = TextAreaField(_l("Purpose in Russian"), filters=[strip], validators=[Optional(), Length(max=3000)],
                               description=_l("For the bilingual invitation letter."))
    budget = FormField(VisitBudgetForm, label=_l("Budget"))
    version = HiddenField()

    DETAIL_FIELDS = ("host_clinic_id", "arrival_on", "departure_on", "purpose", "purpose_ru")

    def validate_departure_on(self, field: DateField) -> None:
        if field.data and self.arrival_on.data and field.data < self.arrival_on.data:
            raise ValidationError(_l("The departure cannot be before the arrival."))

    def lines(self) -> dict[str, tuple[int, str]]:
        found = {}
        for category in VISIT_CATEGORIES:
            entry = self.budget[category]
            if entry.amount.data:
                found[category] = (to_minor(entry.amount.data, entry.currency.data), entry.currency.data)
        return found

    def fill_budget(self, visit: Any) -> None:
        for line in visit.budget_lines:
            if line.category in VISIT_CATEGORIES:
                self.budget[line.category].amount.data = from_minor(line.requested_amount, line.requested_currency)
                self.budget[line.category].currency.data = line.requested_currency


class ActivityForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in ACTIVITY_LABELS.items()])
    day = DateField(_l("Day"), validators=[DataRequired(_l("Enter the day."))], render_kw={"type": "date"})
    starts_at = TimeField(_l("From"), validators=[Optional()], render_kw={"type": "time"})
    ends_at = TimeField(_l("To"), validators=[Optional()], render_kw={"type": "time"})
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(_l("Give the activity a title.")),
                                                                  Length(max=300)])
    title_ru = StringField(_l("Title in Russian"), filters=[strip], validators=[Optional(), Length(max=300)],
                           description=_l("The invitation letter's Russian half needs it."))
    place = StringField(_l("Place in the clinic"), filters=[strip], validators=[Optional(), Length(max=200)])
    participants = StringField(_l("Expected participants"), filters=[strip], validators=[Optional(), Length(max=300)])

    FIELDS = ("kind", "day", "starts_at", "ends_at", "title", "title_ru", "place", "participants")

    def validate_ends_at(self, field: TimeField) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must be after the start."))


class TransitionForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField(_l("Note (optional)"), filters=[strip], validators=[Optional(), Length(max=2000)])


class OutcomesForm(FlaskForm):
    patients_consulted = IntegerField(_l("Patients consulted"), validators=[Optional(), NumberRange(min=0)])
    doctors_trained = IntegerField(_l("Doctors trained"), validators=[Optional(), NumberRange(min=0)])
    operations_performed = IntegerField(_l("Operations performed"), validators=[Optional(), NumberRange(min=0)])
    outcome_notes = TextAreaField(_l("What the visit achieved"), filters=[strip], validators=[Optional(),
                                                                                             Length(max=5000)])

    FIELDS = ("patients_consulted", "doctors_trained", "operations_performed", "outcome_notes")

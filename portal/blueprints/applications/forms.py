from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FileField,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ... import clock
from ...forms import MultiCheckboxField, VersionedForm, strip, website_field, whole_minor_units
from ...labels import BUDGET_CATEGORY_LABELS
from ...models import BUDGET_CATEGORIES, DOCUMENT_KINDS, PARTICIPATION, SHARING_METHODS
from ...money import CURRENCIES, MAX_AMOUNT, from_minor, to_minor
from ...storage import DOCUMENT_MAX_MB
from .labels import DOCUMENT_KIND_LABELS, PARTICIPATION_LABELS, SHARING_LABELS

FILE_HINT = _l("PDF, JPEG or PNG, at most %(mb)d MB.", mb=DOCUMENT_MAX_MB)


def currency_choices() -> list[SelectChoice]:
    return [SelectChoice(code, code) for code in CURRENCIES]


class AmountForm(Form):
    """One budget category: an amount and its currency."""

    amount = DecimalField(_l("Amount"), places=None, validators=[
        Optional(), NumberRange(min=0, message=_l("The amount cannot be negative.")),
        NumberRange(max=MAX_AMOUNT, message=_l("That amount is too large.")), whole_minor_units("currency")],
        render_kw={"inputmode": "decimal"})
    currency = SelectField(_l("Currency"), choices=currency_choices, default="EUR")


class BudgetForm(Form):
    """Amounts for every budget category, as nested fields (``registration-amount`` …)."""


for _category in BUDGET_CATEGORIES:
    setattr(BudgetForm, _category, FormField(AmountForm, label=BUDGET_CATEGORY_LABELS[_category]))


def budget_lines(budget: FormField) -> dict[str, tuple[int, str]]:
    """The categories with an amount, in minor units."""
    lines = {}
    for category in BUDGET_CATEGORIES:
        entry = budget[category]
        if entry.amount.data is not None:
            lines[category] = (to_minor(entry.amount.data, entry.currency.data), entry.currency.data)
    return lines


def fill_budget(budget: FormField, lines: dict[str, tuple[int, str]]) -> None:
    for category, (amount, currency) in lines.items():
        budget[category].amount.data = from_minor(amount, currency)
        budget[category].currency.data = currency


class ApplicationForm(FlaskForm):
    conference_id = SelectField(_l("Conference"), coerce=int, validators=[Optional()],
                                description=_l("Start typing to search the catalogue."))
    conference_search = StringField(_l("Search conferences"), validators=[Optional()])
    # Proposing a conference that is not in the catalogue yet.
    new_conference_name = StringField(_l("Conference name"), validators=[Optional(), Length(max=300)], filters=[strip])
    new_conference_city = StringField(_l("City"), validators=[Optional(), Length(max=100)], filters=[strip])
    new_conference_country = StringField(_l("Country"), validators=[Optional(), Length(max=100)], filters=[strip])
    new_conference_start = DateField(_l("First day"), validators=[Optional()], render_kw={"type": "date"})
    new_conference_end = DateField(_l("Last day"), validators=[Optional()], render_kw={"type": "date"})
    new_conference_website = website_field()

    purpose = TextAreaField(_l("Why do you want to attend?"), filters=[strip], validators=[
        DataRequired(_l("Tell us why you want to attend.")), Length(max=5000)])
    expected_benefit = TextAreaField(_l("What will you bring back to your clinic?"), filters=[strip], validators=[
        DataRequired(_l("Tell us what you will bring back and share.")), Length(max=5000)])
    participation = RadioField(_l("How will you take part?"),
                               choices=[SelectChoice(p, PARTICIPATION_LABELS[p]) for p in PARTICIPATION],
                               default="attending")
    visa_needed = BooleanField(_l("I need a visa for this trip"))
    visa_country = StringField(_l("Consulate: country"), validators=[Optional(), Length(max=100)], filters=[strip])
    visa_city = StringField(_l("Consulate: city"), validators=[Optional(), Length(max=100)], filters=[strip])
    budget = FormField(BudgetForm, label=_l("Requested amounts"))
    # A supporting document can come with the first save (the acceptance letter, the programme, a CV).
    document_kind = SelectField(_l("Document"), default=DOCUMENT_KINDS[0],
                                choices=[SelectChoice(k, DOCUMENT_KIND_LABELS[k]) for k in DOCUMENT_KINDS])
    document = FileField(_l("Supporting document (optional)"), description=FILE_HINT)

    DETAIL_FIELDS = ("purpose", "expected_benefit", "participation", "visa_needed", "visa_country", "visa_city")
    NEW_CONFERENCE_FIELDS = ("new_conference_name", "new_conference_city", "new_conference_country",
                             "new_conference_start", "new_conference_end")

    def proposes_conference(self) -> bool:
        return bool(self.new_conference_name.data)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.proposes_conference():
            for name in self.NEW_CONFERENCE_FIELDS:
                if not getattr(self, name).data:
                    getattr(self, name).errors.append(_l("Needed to propose a conference."))
                    ok = False
            start, end = self.new_conference_start.data, self.new_conference_end.data
            if start and end and end < start:
                self.new_conference_end.errors.append(_l("The last day cannot be before the first day."))
                ok = False
        elif not self.conference_id.data:
            self.conference_id.errors.append(_l("Choose a conference, or propose one below."))
            ok = False
        if self.visa_needed.data and not (self.visa_country.data and self.visa_city.data):
            target = self.visa_country if not self.visa_country.data else self.visa_city
            target.errors.append(_l("Say at which consulate you will apply (country and city)."))
            ok = False
        return ok


class ApproveForm(VersionedForm):
    approved = FormField(BudgetForm, label=_l("Approved amounts"))
    # Shown only when the conference is still only proposed: approving confirms it too.
    confirm_conference = BooleanField(_l("Confirm this conference too: its details above are right"))


class RequestChangesForm(VersionedForm):
    comment = TextAreaField(_l("What should the doctor change?"), filters=[strip], validators=[
        DataRequired(_l("Say what needs to change.")), Length(max=5000)])


class DeclineForm(VersionedForm):
    reason = TextAreaField(_l("Reason for declining"), filters=[strip], validators=[
        DataRequired(_l("Give the reason: the doctor will read it.")), Length(max=5000)])


class CancelForm(VersionedForm):
    reason = TextAreaField(_l("Reason for cancelling"), filters=[strip], validators=[
        DataRequired(_l("Give the reason: the doctor will read it.")), Length(max=5000)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), filters=[strip], validators=[
        DataRequired(_l("Write the comment first.")), Length(max=5000)])
    internal = BooleanField(_l("Internal note: the doctor never sees it"))


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Document"), choices=[SelectChoice(k, DOCUMENT_KIND_LABELS[k]) for k in DOCUMENT_KINDS])
    file = FileField(_l("File"), description=FILE_HINT)


class VisaForm(FlaskForm):
    appointment_on = DateField(_l("Visa appointment date"), validators=[Optional()], render_kw={"type": "date"})
    outcome = SelectField(_l("Outcome"), choices=[
        SelectChoice("", _l("not known yet")), SelectChoice("granted", _l("granted")),
        SelectChoice("refused", _l("refused"))])


class ReportForm(FlaskForm):
    learned = TextAreaField(_l("What did you learn?"), filters=[strip], validators=[
        DataRequired(_l("Tell us what you learned.")), Length(max=10000)])
    shared_by = MultiCheckboxField(_l("How did you share it?"),
                                   choices=[SelectChoice(m, SHARING_LABELS[m]) for m in SHARING_METHODS],
                                   validators=[DataRequired(_l("Choose at least one way you shared it."))])
    shared_on = DateField(_l("When did you share it?"), validators=[DataRequired(_l("Enter the date."))],
                          render_kw={"type": "date"})
    colleagues_reached = IntegerField(_l("Colleagues reached"), validators=[
        InputRequired(_l("Enter a number.")), NumberRange(min=0, max=100000)])
    certificate = FileField(_l("Certificate of attendance"), description=FILE_HINT)

    def validate_shared_on(self, field: DateField) -> None:
        if field.data and field.data > clock.today():
            raise ValidationError(_l("The date cannot be in the future."))


class ReturnReportForm(VersionedForm):
    comment = TextAreaField(_l("What is missing from the report?"), filters=[strip], validators=[
        DataRequired(_l("Say what is missing.")), Length(max=5000)])


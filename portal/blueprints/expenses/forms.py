from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    FileField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ... import clock
from ...forms import VersionedForm, strip, whole_minor_units
from ...labels import BUDGET_CATEGORY_LABELS
from ...models import PAYMENT_METHODS
from ...money import CURRENCIES, MAX_AMOUNT, to_minor
from ...storage import DOCUMENT_MAX_MB

RECEIPT_HINT = _l("PDF, JPEG or PNG, at most %(mb)d MB.", mb=DOCUMENT_MAX_MB)
METHOD_LABELS = {"bank_transfer": _l("Bank transfer"), "card": _l("Card"), "cash": _l("Cash"),
                 "other": _l("Other")}


class MoneyForm(FlaskForm):
    """An amount with its currency; ``minor()`` gives integer minor units."""

    amount = DecimalField(_l("Amount"), places=None, validators=[
        InputRequired(_l("Enter the amount.")),
        NumberRange(min=0.01, max=MAX_AMOUNT, message=_l("Enter an amount above zero.")),
        whole_minor_units("currency")],
        render_kw={"inputmode": "decimal"})
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c, c) for c in CURRENCIES], default="EUR")

    def minor(self) -> int:
        return to_minor(self.amount.data, self.currency.data)


def category_choices(categories: list[str]) -> list[SelectChoice]:
    return [SelectChoice(c, BUDGET_CATEGORY_LABELS[c]) for c in categories]


class LineForm(MoneyForm):
    category = SelectField(_l("Category"))
    spent_on = DateField(_l("Date"), validators=[DataRequired(_l("Enter the date on the receipt."))],
                         render_kw={"type": "date"})
    description = StringField(_l("What was it?"), filters=[strip], validators=[
        DataRequired(_l("Say what the expense was.")), Length(max=500)])
    receipt = FileField(_l("Receipt"), description=RECEIPT_HINT)

    def validate_spent_on(self, field: DateField) -> None:
        if field.data and field.data > clock.today():
            raise ValidationError(_l("The date cannot be in the future."))

    def values(self) -> dict[str, Any]:
        return {"category": self.category.data, "spent_on": self.spent_on.data,
                "description": self.description.data, "amount": self.minor(), "currency": self.currency.data}


class DirectCostForm(LineForm):
    funded_item_id = SelectField(_l("For"), coerce=int)
    receipt = FileField(_l("Invoice"), description=RECEIPT_HINT)


class ApproveLineForm(VersionedForm):
    override_reason = TextAreaField(_l("Reason to approve over the approved amount"), filters=[strip],
                                    validators=[Optional(), Length(max=2000)],
                                    description=_l("Needed only when this line takes its category over."))


class RejectLineForm(VersionedForm):
    reason = TextAreaField(_l("Reason for rejecting"), filters=[strip], validators=[
        DataRequired(_l("Give the reason: the claimant will read it.")), Length(max=2000)])


class QueryLineForm(VersionedForm):
    question = TextAreaField(_l("Question to the claimant"), filters=[strip], validators=[
        DataRequired(_l("Write the question.")), Length(max=2000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), filters=[strip], validators=[
        DataRequired(_l("Write your answer.")), Length(max=2000)])
    receipt = FileField(_l("New receipt (optional)"), description=RECEIPT_HINT)


class PaymentForm(FlaskForm):
    lines = HiddenField()  # filled from the checkboxes named "line"
    paid_on = DateField(_l("Paid on"), validators=[DataRequired(_l("Enter the payment date."))],
                        render_kw={"type": "date"})
    method = SelectField(_l("Method"), choices=[SelectChoice(m, METHOD_LABELS[m]) for m in PAYMENT_METHODS])
    reference = StringField(_l("Payment reference"), filters=[strip], validators=[
        DataRequired(_l("Enter the bank or payment reference.")), Length(max=100)])
    amount = DecimalField(_l("Amount paid (GBP)"), places=None, validators=[
        InputRequired(_l("Enter the amount paid.")), NumberRange(min=0.01, max=MAX_AMOUNT),
        whole_minor_units(currency="GBP")])


class RateForm(FlaskForm):
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c, c) for c in CURRENCIES if c != "GBP"])
    rate = DecimalField(_l("GBP for one unit"), places=None, validators=[
        InputRequired(_l("Enter the rate.")), NumberRange(min=0.0000001, max=100000,
                                                          message=_l("Enter a rate above zero."))])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired(_l("Enter the date."))],
                           render_kw={"type": "date"})


class RatesImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l("Rows of date,currency,rate — for example 2026-11-01,EUR,0.85"))


class BudgetForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    amount = DecimalField(_l("Budget (GBP)"), places=None, validators=[
        InputRequired(_l("Enter the budget.")), NumberRange(min=0, max=MAX_AMOUNT), whole_minor_units(currency="GBP")])

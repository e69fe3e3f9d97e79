from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FileField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from ... import clock
from ...countries import country_choices
from ...forms import column_choices, columns_chosen_once, initial_columns, strip, whole_minor_units
from ...money import CURRENCIES, MAX_AMOUNT
from .imports.mapping import DATE_FORMATS, TARGETS, Mapping
from .imports.reading import MAX_BYTES, MAX_MB, CsvProblem, Table, check_table, decode_upload, read_table
from .labels import KIND_LABELS, LANGUAGE_LABELS, METHOD_LABELS, PREFERENCE_LABELS


def _choices(labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(key, label) for key, label in labels.items()]


def not_in_future(form: Any, field: Any) -> None:
    if field.data and field.data > clock.today():
        raise ValidationError(_l("This date is in the future."))


class DonorForm(FlaskForm):
    kind = RadioField(_l("Donor is"), choices=_choices(KIND_LABELS), default="individual")
    title = StringField(lazy_pgettext("a person's title, such as Mrs", "Title"), filters=[strip], validators=[
        Optional(),
        Length(max=4, message=_l("HMRC takes titles of at most 4 letters, such as Mr, Mrs, Ms, Dr or Prof."))],
        description=_l("Mr, Mrs, Ms, Dr, Prof…"))
    first_name = StringField(_l("First name"), filters=[strip], validators=[Optional(), Length(max=35)])
    last_name = StringField(_l("Last name"), filters=[strip], validators=[Optional(), Length(max=35)])
    organisation_name = StringField(_l("Organisation name"), filters=[strip], validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[
        Optional(), Email(_l("Enter an e-mail address like name@example.org."), check_deliverability=False)])
    house = StringField(_l("House name or number"), filters=[strip], validators=[Optional(), Length(max=40)])
    address = TextAreaField(_l("Street and town"), filters=[strip], validators=[Optional(), Length(max=500)],
                            description=_l("One line per line of the envelope."))
    postcode = StringField(_l("Postcode"), filters=[strip, lambda v: v.upper() if v else v],
                           validators=[Optional(), Length(max=20)])
    country = SelectField(_l("Country"), default="GB")
    language = SelectField(_l("Language for letters"), choices=_choices(LANGUAGE_LABELS), default="en")
    contact_preference = SelectField(_l("Send thanks by"), choices=_choices(PREFERENCE_LABELS), default="email")
    notes = TextAreaField(_l("Notes"), filters=[strip], validators=[Optional(), Length(max=5000)])

    FIELDS = ("kind", "title", "first_name", "last_name", "organisation_name", "email", "house", "address",
              "postcode", "country", "language", "contact_preference", "notes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == "organisation":
            if not self.organisation_name.data:
                self.organisation_name.errors.append(_l("Enter the organisation's name."))
                valid = False
        else:
            for name, message in (("first_name", _l("Enter the first name.")),
                                  ("last_name", _l("Enter the last name."))):
                if not self[name].data:
                    self[name].errors.append(message)
                    valid = False
        if self.contact_preference.data == "email" and not self.email.data and not self.email.errors:
            self.email.errors.append(_l("Enter an e-mail address, or send thanks by post."))
            valid = False
        if self.contact_preference.data == "post":
            if not self.address.data and not self.address.errors:
                self.address.errors.append(_l("Enter the address the letter goes to."))
                valid = False
            if self.country.data == "GB" and not self.postcode.data and not self.postcode.errors:
                self.postcode.errors.append(_l("Enter the postcode."))
                valid = False
        return valid

    def apply(self, donor: Any) -> None:
        for name in self.FIELDS:
            value = getattr(self, name).data
            setattr(donor, name, value if name in ("kind", "country", "language", "contact_preference")
                    else value or None)
        if donor.kind == "organisation":
            donor.title = donor.first_name = donor.last_name = None


class DeclarationForm(FlaskForm):
    made_on = DateField(_l("Declaration made on"), validators=[
        DataRequired(_l("Enter the date the declaration was made.")), not_in_future], render_kw={"type": "date"})
    covers_past = BooleanField(_l("Covers gifts in the four years before"), default=True)
    covers_future = BooleanField(_l("Covers this gift and all future gifts"), default=True)


class CancelDeclarationForm(FlaskForm):
    cancelled_on = DateField(_l("Cancelled from"), validators=[
        DataRequired(_l("Enter the date the cancellation takes effect."))], render_kw={"type": "date"},
        description=_l("Gifts received from this day on are not covered."))
    reason = StringField(_l("Reason"), filters=[strip], validators=[Optional(), Length(max=500)])


class DonationForm(FlaskForm):
    amount = DecimalField(_l("Amount"), places=None, validators=[
        DataRequired(_l("Enter the amount received.")),
        NumberRange(min=Decimal("0.01"), max=MAX_AMOUNT, message=_l("Enter an amount greater than zero.")),
        whole_minor_units("currency")])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c, c) for c in CURRENCIES], default="GBP")
    received_on = DateField(_l("Date received"), validators=[
        DataRequired(_l("Enter the date the gift was received.")), not_in_future], render_kw={"type": "date"})
    method = SelectField(_l("Method"), choices=_choices(METHOD_LABELS), default="bank_transfer")
    reference = StringField(_l("Reference"), filters=[strip], validators=[Optional(), Length(max=100)],
                            description=_l("The bank's, platform's or cheque's reference: each is recorded once."))
    restricted = BooleanField(_l("Restricted to the Educational Programme"), default=True)
    campaign = StringField(_l("Campaign"), filters=[strip], validators=[Optional(), Length(max=200)])
    anonymous = BooleanField(_l("Anonymous: never name this donor in public thanks"))
    notes = TextAreaField(_l("Notes"), filters=[strip], validators=[Optional(), Length(max=2000)])
    sponsored_event = BooleanField(_l("Sponsorship of a sponsored event"))
    benefit_value = DecimalField(_l("Value of any benefit the donor received"), places=None, validators=[
        Optional(), NumberRange(min=Decimal("0"), max=MAX_AMOUNT, message=_l("Enter zero or more.")),
        whole_minor_units("currency")],
        description=_l("Tickets, meals, gifts in return: over HMRC's limits the gift cannot be claimed."))
    benefit_description = StringField(_l("What the benefit was"), filters=[strip],
                                      validators=[Optional(), Length(max=200)])

    FIELDS = ("currency", "received_on", "method", "restricted", "campaign", "anonymous", "notes", "sponsored_event",
              "benefit_description")


class AllocationForm(FlaskForm):
    funded_item_id = SelectField(_l("Paid for"), coerce=int, validators=[
        DataRequired(_l("Choose the application or visit this gift paid for."))])
    amount = DecimalField(_l("Amount"), places=None, validators=[
        DataRequired(_l("Enter the amount to allocate.")),
        NumberRange(min=Decimal("0.01"), max=MAX_AMOUNT, message=_l("Enter an amount greater than zero."))])


def _gbp(required: Any, maximum: Decimal = MAX_AMOUNT) -> list[Any]:
    return [DataRequired(required), NumberRange(min=Decimal("0.01"), max=maximum,
                                                message=_l("Enter an amount greater than zero.")),
            whole_minor_units(currency="GBP")]


class ClaimForm(FlaskForm):
    up_to = DateField(_l("Gifts received up to"), validators=[
        DataRequired(_l("Enter the last day of gifts to claim.")), not_in_future], render_kw={"type": "date"},
        description=_l("Every eligible gift and aggregated entry up to this day that no claim holds yet."))


class SubmitClaimForm(FlaskForm):
    hmrc_reference = StringField(_l("HMRC's reference"), filters=[strip], validators=[
        DataRequired(_l("Enter the reference HMRC gave the claim.")), Length(max=40)])
    submitted_on = DateField(_l("Submitted on"), validators=[
        DataRequired(_l("Enter the day the claim was submitted.")), not_in_future], render_kw={"type": "date"})


class PaidClaimForm(FlaskForm):
    amount_received = DecimalField(_l("Amount received"), places=None,
                                   validators=_gbp(_l("Enter the amount HMRC paid.")))
    paid_on = DateField(_l("Received on"), validators=[
        DataRequired(_l("Enter the day the payment arrived.")), not_in_future], render_kw={"type": "date"})


class AggregateForm(FlaskForm):
    description = StringField(_l("Description"), filters=[strip], validators=[
        DataRequired(_l("Describe the gifts, such as a collection and its day.")), Length(max=35)],
        description=_l("At most 35 characters, as HMRC asks: for example “Concert collection 12 May”."))
    received_on = DateField(_l("Day of the last gift"), validators=[
        DataRequired(_l("Enter the day of the last gift.")), not_in_future], render_kw={"type": "date"})
    gifts = IntegerField(_l("Number of gifts"), validators=[
        DataRequired(_l("Enter how many gifts the entry adds together.")),
        NumberRange(min=1, max=1_000_000, message=_l("Enter how many gifts the entry adds together."))])
    total = DecimalField(_l("Total"), places=None, validators=_gbp(_l("Enter the total of the gifts.")),
                         description=_l("Each gift £20 or less; at most £1,000 a line."))


class RefundForm(FlaskForm):
    amount = DecimalField(_l("Amount given back"), places=None, validators=[
        DataRequired(_l("Enter the amount given back.")),
        NumberRange(min=Decimal("0.01"), max=MAX_AMOUNT, message=_l("Enter an amount greater than zero."))])
    refunded_on = DateField(_l("Refunded on"), validators=[
        DataRequired(_l("Enter the day of the refund.")), not_in_future], render_kw={"type": "date"})
    reason = StringField(_l("Reason"), filters=[strip], validators=[
        DataRequired(_l("Say why the gift was refunded or reduced.")), Length(max=500)])


# --- Importing donations from a CSV file ------------------------------------------------



class ImportUploadForm(FlaskForm):
    text = ""  # the file's text, once it passed
    filename = ""
    file = FileField(_l("CSV file"), description=_l(
        "A bank statement or an online platform's export saved as CSV, at most %(size)d MB. "
        "The first row must name the columns.", size=MAX_MB))

    def validate_file(self, field: Any) -> None:
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            raise ValidationError(_("Choose the CSV file to import."))
        raw = upload.stream.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ValidationError(_("The file is larger than %(size)d MB: split it into smaller files.",
                                    size=MAX_MB))
        try:
            self.text = decode_upload(raw)
            check_table(read_table(self.text))
        except CsvProblem as exc:
            raise ValidationError(str(exc)) from None
        self.filename = re.split(r"[\\/]", upload.filename)[-1][:255] or "upload.csv"


class ImportMappingForm(FlaskForm):
    col_date = SelectField(_l("Date received"), validators=[
        DataRequired(_l("Choose the column that holds the date each gift was received."))])
    date_format = SelectField(_l("Dates are written"), default="dmy",
                              choices=[SelectChoice(key, label) for key, label in DATE_FORMATS.items()],
                              description=_l("Dates like 2026-12-31 or 31 Dec 2026 are read whatever you choose."))
    col_amount = SelectField(_l("Amount"), validators=[DataRequired(_l("Choose the column that holds the amount."))])
    col_currency = SelectField(_l("Currency"), description=_l("Optional: a column with codes such as GBP or EUR."))
    default_currency = SelectField(_l("Currency when the file does not say"), default="GBP",
                                   choices=[SelectChoice(code, code) for code in CURRENCIES])
    col_reference = SelectField(_l("Reference"), description=_l(
        "Recommended: gifts whose reference is already recorded are skipped, so the same file never counts twice."))
    col_name = SelectField(_l("Donor name"), description=_l("Required unless the file has the donor's e-mail "
                                                            "address."))
    col_email = SelectField(_l("Donor e-mail address"), description=_l(
        "Optional: a gift is matched to the donor with this address first, then by name."))
    col_method = SelectField(_l("Method"), description=_l("Optional: words such as card, cheque, BACS or "
                                                          "JustGiving."))
    default_method = SelectField(_l("Method when the file does not say"), default="bank_transfer",
                                 choices=[SelectChoice(key, label) for key, label in METHOD_LABELS.items()])
    col_campaign = SelectField(_l("Campaign"), description=_l("Optional."))
    restricted = BooleanField(_l("Restricted to the Educational Programme"), default=True,
                              description=_l("For every gift imported from this file."))
    skip_errors = BooleanField(_l("Skip the rows with errors"))

    def set_columns(self, table: Table) -> None:
        choices = column_choices(table)
        for target in TARGETS:
            self[f"col_{target}"].choices = choices

    @staticmethod
    def initial(mapping: Mapping) -> dict[str, Any]:
        data = initial_columns(mapping.columns)
        data.update(date_format=mapping.date_format, default_currency=mapping.default_currency,
                    default_method=mapping.default_method, restricted=mapping.restricted)
        return data

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.col_name.data and not self.col_email.data:
            self.col_name.errors.append(_l("Choose the column with the donor's name (or their e-mail address)."))
            valid = False
        return columns_chosen_once(self, TARGETS) and valid

    def mapping(self) -> Mapping:
        columns = {target: int(self[f"col_{target}"].data) if self[f"col_{target}"].data else None
                   for target in TARGETS}
        return Mapping(columns=columns, date_format=self.date_format.data, default_currency=self.default_currency.data,
                       default_method=self.default_method.data, restricted=bool(self.restricted.data))

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, IntegerField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ...forms import MultiCheckboxField, strip
from ...labels import ROLE_LABELS
from ...models import ROLES


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])


class OrganisationForm(FlaskForm):
    name = StringField(_l("Organisation name"), filters=[strip], validators=[
        DataRequired(_l("Enter the organisation's name.")), Length(max=200)])
    address = TextAreaField(_l("Address"), filters=[strip], validators=[Optional(), Length(max=1000)],
                            description=_l("One line per line of the letterhead."))
    charity_number = StringField(_l("Charity number"), filters=[strip], validators=[Optional(), Length(max=50)])
    signatory_name = StringField(_l("Signatory's name"), filters=[strip], validators=[Optional(), Length(max=200)])
    signatory_title = StringField(_l("Signatory's title"), filters=[strip], validators=[Optional(), Length(max=200)])
    reference_prefix = StringField(_l("Reference prefix"), filters=[strip, lambda v: v.upper() if v else v],
                                   description=_l("Letters are numbered PREFIX-YEAR-0001."), validators=[
        DataRequired(_l("Enter a prefix.")),
        Regexp(r"^[A-Z0-9]{1,10}$", message=_l("Use 1 to 10 letters A–Z or digits."))])
    programme_since = IntegerField(_l("Programme running since (year)"), validators=[
        InputRequired(_l("Enter a year.")), NumberRange(min=1900, max=2100, message=_l("Enter a year."))],
        description=_l("Donor letters say what the programme has done since then."))
    doctors_before_portal = IntegerField(_l("Doctors supported before the portal"), validators=[
        InputRequired(_l("Enter a number of doctors.")),
        NumberRange(min=0, max=100000, message=_l("Enter a number of doctors."))],
        description=_l("Those in no imported historical record: the impact page and donor letters add the "
                       "imported trips and the portal's own to this number."))
    passport_retention_days = IntegerField(_l("Keep passport details for (days after the trip or visit)"),
                                           validators=[InputRequired(_l("Enter a number of days.")), NumberRange(
                                               min=1, max=3650, message=_l("Enter a number of days from 1 to 3650."))],
                                           description=_l("Then the passport number, date of birth and expiry leave "
                                                          "the profile and the letters' stored copies; the letters "
                                                          "still verify."))
    upload_retention_days = IntegerField(_l("Keep uploaded import files for (days)"), validators=[
        InputRequired(_l("Enter a number of days.")),
        NumberRange(min=1, max=3650, message=_l("Enter a number of days from 1 to 3650."))],
        description=_l("Bank statements and old spreadsheets; what became of each row is kept."))
    receipt_retention_years = IntegerField(_l("Keep receipts and payments for (years)"), validators=[
        InputRequired(_l("Enter a number of years.")),
        NumberRange(min=6, max=30, message=_l("Enter a number of years from 6 (what the accounts need) to 30."))])
    inactive_account_years = IntegerField(_l("Flag accounts unused for (years)"), validators=[
        InputRequired(_l("Enter a number of years.")),
        NumberRange(min=1, max=30, message=_l("Enter a number of years from 1 to 30."))])
    logo = FileField(_l("Logo"), description=_l("PNG or JPEG, at most 1 MB. Leave empty to keep the current one."))
    remove_logo = BooleanField(_l("Remove the logo"))
    signature = FileField(_l("Signature image"),
                          description=_l("PNG or JPEG, at most 1 MB. Leave empty to keep the current one."))
    remove_signature = BooleanField(_l("Remove the signature image"))

    TEXT_FIELDS = ("name", "address", "charity_number", "signatory_name", "signatory_title", "reference_prefix")
    NUMBER_FIELDS = ("programme_since", "doctors_before_portal", "passport_retention_days", "upload_retention_days",
                     "receipt_retention_years", "inactive_account_years")

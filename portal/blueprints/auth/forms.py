from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ... import clock
from ...forms import strip

MIN_PASSWORD = 10


def email_field() -> EmailField:
    return EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")),
                    Email(_l("Enter an e-mail address like name@example.org."), check_deliverability=False),
                    Length(max=254)],
        filters=[lambda v: v.strip().lower() if v else v],
    )


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    at_least = lazy_ngettext("At least %(num)d character.", "At least %(num)d characters.", MIN_PASSWORD)
    return (
        PasswordField(_l("New password"), description=at_least, validators=[
            DataRequired(_l("Choose a password.")),
            Length(min=MIN_PASSWORD, max=200, message=at_least),
        ]),
        PasswordField(_l("Repeat the password"), validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ]),
    )


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter your name.")), Length(max=200)],
                       filters=[strip])
    email = email_field()
    password, confirm = new_password_fields()


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])
    password, confirm = new_password_fields()


def _not_in_future(form: FlaskForm, field: DateField) -> None:
    if field.data and field.data > clock.today():
        raise ValidationError(_l("The date of birth cannot be in the future."))


class ProfileForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter your name.")), Length(max=200)],
                       filters=[strip])
    preferred_language = SelectField(_l("Language of the portal and e-mails"),
                                     choices=[SelectChoice("en", "English"), SelectChoice("ru", "Русский")])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=50)])
    clinic_id = SelectField(_l("Clinic"), coerce=int, validators=[Optional()])
    specialty = StringField(_l("Specialty"), validators=[Optional(), Length(max=200)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    passport_full_name = StringField(_l("Full name as in passport"), validators=[Optional(), Length(max=200)])
    nationality = StringField(_l("Nationality"), validators=[Optional(), Length(max=100)])
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional(), _not_in_future],
                              render_kw={"type": "date"})
    passport_number = StringField(_l("Passport number"), validators=[Optional(), Length(min=5, max=20)],
                                  filters=[lambda v: v.replace(" ", "").upper() if v else v])
    passport_expiry = DateField(_l("Passport expiry date"), validators=[Optional()],
                                render_kw={"type": "date"})

    PASSPORT_FIELDS = ("passport_full_name", "nationality", "date_of_birth", "passport_number", "passport_expiry")
    DETAIL_FIELDS = ("name", "preferred_language", "phone", "specialty", "position") + PASSPORT_FIELDS


class BankDetailsForm(FlaskForm):
    """Where repayments go: an IBAN (and the BIC for a bank abroad), or a UK sort code and
    account number. The current account is shown masked and never filled in."""

    bank_holder = StringField(_l("Account holder"), validators=[Optional(), Length(max=200)], filters=[strip])
    bank_iban = StringField(_l("IBAN"), validators=[Optional(), Length(max=42)], filters=[strip],
                            render_kw={"autocomplete": "off", "spellcheck": "false"})
    bank_bic = StringField(_l("BIC (SWIFT code)"), validators=[Optional(), Length(max=14)], filters=[strip],
                           render_kw={"autocomplete": "off", "spellcheck": "false"})
    bank_sort_code = StringField(_l("UK sort code"), validators=[Optional(), Length(max=10)], filters=[strip],
                                 render_kw={"autocomplete": "off", "inputmode": "numeric"})
    bank_account_number = StringField(_l("UK account number"), validators=[Optional(), Length(max=12)],
                                      filters=[strip], render_kw={"autocomplete": "off", "inputmode": "numeric"})

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional, URL, ValidationError

_strip = [lambda v: v.strip() if isinstance(v, str) else v]


def _required(message: str) -> DataRequired:
    return DataRequired(message)


class ClinicForm(FlaskForm):
    name = StringField(_l("Clinic name"), validators=[_required(_l("Enter the clinic's name.")), Length(max=200)], filters=_strip)
    city = StringField(_l("City"), validators=[_required(_l("Enter the city.")), Length(max=100)], filters=_strip)
    country = StringField(_l("Country"), validators=[_required(_l("Enter the country.")), Length(max=100)], filters=_strip)
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)], filters=_strip)
    website = URLField(_l("Website"), validators=[Optional(), URL(message=_l("Enter a full web address, starting with https://.")), Length(max=300)], filters=_strip)

    FIELDS = ("name", "city", "country", "address", "website")


class ConferenceForm(FlaskForm):
    name = StringField(_l("Conference name"), validators=[_required(_l("Enter the conference's name.")), Length(max=300)], filters=_strip)
    organiser = StringField(_l("Organiser"), validators=[Optional(), Length(max=300)], filters=_strip)
    city = StringField(_l("City"), validators=[_required(_l("Enter the city.")), Length(max=100)], filters=_strip)
    country = StringField(_l("Country"), validators=[_required(_l("Enter the country.")), Length(max=100)], filters=_strip)
    start_date = DateField(_l("First day"), validators=[_required(_l("Enter the first day as a date."))], render_kw={"type": "date"})
    end_date = DateField(_l("Last day"), validators=[_required(_l("Enter the last day as a date."))], render_kw={"type": "date"})
    website = URLField(_l("Website"), validators=[Optional(), URL(message=_l("Enter a full web address, starting with https://.")), Length(max=300)], filters=_strip)
    confirmed = BooleanField(_l("Confirmed: offer it to every doctor"), default=True)

    FIELDS = ("name", "organiser", "city", "country", "start_date", "end_date", "website")

    def validate_end_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The last day cannot be before the first day."))

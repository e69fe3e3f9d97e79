from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...forms import strip, website_field


def text(label: Any, max_length: int, required: Any = None, area: bool = False) -> StringField:
    """A trimmed text field; ``required`` is the message shown when it is left empty."""
    first = DataRequired(required) if required else Optional()
    field = TextAreaField if area else StringField
    return field(label, validators=[first, Length(max=max_length)], filters=[strip])


def website() -> URLField:
    return website_field(description=_l("Optional."))


def day(label: Any, required: Any) -> DateField:
    return DateField(label, validators=[DataRequired(required)], render_kw={"type": "date"})


class ClinicForm(FlaskForm):
    name = text(_l("Clinic name"), 200, _l("Enter the clinic's name."))
    city = text(_l("City"), 100, _l("Enter the city."))
    country = text(_l("Country"), 100, _l("Enter the country."))
    address = text(_l("Address"), 1000, area=True)
    name_ru = text(_l("Name in Russian"), 200)
    address_ru = text(_l("Address in Russian"), 1000, area=True)
    website = website()

    FIELDS = ("name", "city", "country", "address", "name_ru", "address_ru", "website")


class ConferenceForm(FlaskForm):
    name = text(_l("Conference name"), 300, _l("Enter the conference's name."))
    organiser = text(_l("Organiser"), 300)
    city = text(_l("City"), 100, _l("Enter the city."))
    country = text(_l("Country"), 100, _l("Enter the country."))
    start_date = day(_l("First day"), _l("Enter the first day as a date."))
    end_date = day(_l("Last day"), _l("Enter the last day as a date."))
    website = website()
    confirmed = BooleanField(_l("Confirmed: offer it to every doctor"), default=True)

    FIELDS = ("name", "organiser", "city", "country", "start_date", "end_date", "website")

    def validate_end_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The last day cannot be before the first day."))

"""Form pieces every area uses."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, URLField
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .money import AmountError, to_minor
from .weblinks import is_web_address


def strip(value: Any) -> Any:
    """A WTForms filter: surrounding blanks are never part of what someone meant."""
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the form macro renders them as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VersionedForm(FlaskForm):
    """A decision about a record as it was when the page was drawn: the version it saw,
    and where to go back to."""

    version = HiddenField(validators=[InputRequired()])
    next = HiddenField()

    def version_number(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


def whole_minor_units(currency_field: str | None = None, currency: str | None = None) -> Any:
    """A validator: the amount has no more decimals than its currency (named by another
    field of the form, or fixed)."""

    def check(form: Any, field: Any) -> None:
        if field.data is None or field.errors:
            return
        code = currency or form[currency_field].data
        try:
            to_minor(field.data, code)
        except AmountError:
            raise ValidationError(_l("Too many decimal places for %(currency)s.", currency=code)) from None

    return check


def website_field(label: Any = None, description: Any = None) -> URLField:
    """An optional website: an http(s) address or nothing (the models enforce the same rule)."""

    def check(form: Any, field: Any) -> None:
        if field.data and not is_web_address(field.data):
            raise ValidationError(_l("Enter a full web address, starting with https://."))

    return URLField(label or _l("Website"), description=description, filters=[strip],
                    validators=[Optional(), Length(max=300), check])

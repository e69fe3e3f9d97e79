"""Form pieces every area uses."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
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


# --- The column-mapping forms of the spreadsheet imports ---------------------------------

NOT_IN_FILE = ""


def column_choices(table: Any) -> list[Any]:
    """"Not in the file" and each of a ``tabular.Table``'s columns, for a column's select."""
    from wtforms import SelectChoice

    return [SelectChoice(NOT_IN_FILE, _("— not in the file —"))] + [
        SelectChoice(str(index), table.column_label(index)) for index in range(table.width)]


def initial_columns(columns: dict[str, int | None]) -> dict[str, Any]:
    """The ``col_<target>`` fields' data for a mapping's columns."""
    return {f"col_{target}": NOT_IN_FILE if index is None else str(index) for target, index in columns.items()}


def columns_chosen_once(form: Any, targets: Any) -> bool:
    """Say beside the field when one column of the file is chosen for two things."""
    valid = True
    used: dict[str, str] = {}
    for target in targets:
        column_field = form[f"col_{target}"]
        if column_field.data and column_field.data in used:
            column_field.errors.append(_("This column is already chosen for “%(other)s”.",
                                         other=form[used[column_field.data]].label.text))
            valid = False
        elif column_field.data:
            used[column_field.data] = f"col_{target}"
    return valid


def name_skip_box(form: Any, errors: int) -> None:
    """The "skip the rows with errors" box says how many rows it leaves out."""
    if errors:
        form.skip_errors.label.text = ngettext("Skip the %(num)d row with errors and import the others",
                                               "Skip the %(num)d rows with errors and import the others", errors)


def confirmed_errors(formdata: Any) -> int | None:
    """How many rows with errors the person saw when they ticked the box (the preview's hidden field)."""
    try:
        return int(formdata.get("error_count", ""))
    except ValueError:
        return None

"""Form pieces every area uses."""

from __future__ import annotations

from typing import Any

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


def strip(value: Any) -> Any:
    """A WTForms filter: surrounding blanks are never part of what someone meant."""
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the form macro renders them as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

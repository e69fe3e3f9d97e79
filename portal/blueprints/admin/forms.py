from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from ...labels import ROLE_LABELS
from ...models import ROLES


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])

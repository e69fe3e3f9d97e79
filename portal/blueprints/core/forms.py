"""The history import's forms: the upload, and which column holds what."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, FileField, RadioField, SelectChoice, SelectField
from wtforms.validators import DataRequired, ValidationError

from ...forms import column_choices, columns_chosen_once, initial_columns
from ...history import KIND_LABELS, MAX_BYTES, MAX_MB, REQUIRED, TARGETS, Mapping, target_label
from ...tabular import DATE_FORMATS, CsvProblem, Table, read_upload


class HistoryUploadForm(FlaskForm):
    content = b""  # the file's bytes, once they passed
    filename = ""
    kind = RadioField(_l("The file lists"), choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()],
                      validators=[DataRequired(_l("Say whether the file lists conference trips or expert visits."))])
    file = FileField(_l("CSV or Excel file"), description=_l(
        "One trip or visit per row, at most %(size)d MB, the first row naming the columns.", size=MAX_MB))

    def validate_file(self, field: Any) -> None:
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            raise ValidationError(_("Choose the CSV or Excel file to import."))
        raw = upload.stream.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ValidationError(_("The file is larger than %(size)d MB: split it into smaller files.", size=MAX_MB))
        try:
            table = read_upload(raw)
        except CsvProblem as exc:
            raise ValidationError(str(exc)) from None
        if len([cell for cell in table.header if cell]) < 2:
            raise ValidationError(_("Only one column was found. The first row must name the columns, and a CSV "
                                    "file's columns must be separated by commas, semicolons or tabs."))
        if not table.rows:
            raise ValidationError(_("The file has a header row but no rows of trips or visits."))
        self.content = raw
        self.filename = re.split(r"[\\/]", upload.filename)[-1][:255] or "history"


def mapping_form(kind: str, table: Table, *, formdata: Any = ..., mapping: Mapping | None = None) -> Any:
    """The form that says which column holds what, for a file of trips or of visits."""
    choices = column_choices(table)

    class HistoryMappingForm(FlaskForm):
        date_format = SelectField(_l("Dates are written"), default="dmy",
                                  choices=[SelectChoice(key, label) for key, label in DATE_FORMATS.items()],
                                  description=_l("Dates like 2015-09-30 or 30 Sep 2015 are read whatever you "
                                                 "choose; a year alone is read as 1 January."))
        skip_errors = BooleanField(_l("Skip the rows with errors"))

        def validate(self, extra_validators: Any = None) -> bool:
            valid = super().validate(extra_validators)
            return columns_chosen_once(self, TARGETS[kind]) and valid

        def mapping(self) -> Mapping:
            return Mapping(kind, {target: int(self[f"col_{target}"].data) if self[f"col_{target}"].data else None
                                  for target in TARGETS[kind]}, self.date_format.data)

    for target in TARGETS[kind]:
        label = target_label(kind, target)
        validators = [DataRequired(_l("Choose the column that holds this."))] if target in REQUIRED[kind] else []
        setattr(HistoryMappingForm, f"col_{target}", SelectField(label, choices=choices, validators=validators))
    if formdata is not ...:
        data = {**initial_columns(mapping.columns), "date_format": mapping.date_format} if mapping else None
        return HistoryMappingForm(formdata=formdata, data=data)
    return HistoryMappingForm()

"""How every view answers the same way: form pages (422 when a form has errors), safe
redirects back, links to another page of a list, errors beside their field, and the
signed-in actor that services are given as ``by=``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, render_template, request, url_for
from flask_login import current_user

from .errors import UserError
from .extensions import htmx


def current_actor() -> Any:
    """The signed-in user as the model object services take as ``by=`` (not the proxy)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


# A submitted form with errors answers 422, so htmx swaps it (see base.html) and tests can tell.
INVALID = 422


def safe_next(target: str | None, default_endpoint: str = "core.dashboard") -> str:
    """Only a plain path on this site: never another host, never a scheme-relative URL, and
    nothing with a control character (a CR/LF would break the Location header; browsers
    drop tabs and newlines, so "/<tab>/evil.example" would become "//evil.example")."""
    if target and not any(ord(char) < 32 or ord(char) == 127 for char in target):
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/")
                and not target.startswith("//") and "\\" not in target):
            return target
    return url_for(default_endpoint)


def form_page(template: str, form: Any, **context: Any) -> tuple[str, int] | str:
    """Render a form page; a POST that lands here had errors."""
    html = render_template(template, form=form, **context)
    return (html, INVALID) if request.method == "POST" else html


def show_error(error: UserError, form: Any = None) -> str | None:
    """Say why a change was refused: beside its field when ``form`` has that field, else at
    the top of ``form`` (its error summary), else as a flash message. An htmx answer without
    a form shows no flash: the message is returned for the fragment to show."""
    message = str(error.message)
    if form is not None:
        if error.field and error.field in form:
            field = form[error.field]
            field.errors = [*field.errors, message]
        else:
            form.form_errors = [*form.form_errors, message]
        return None
    if htmx:
        return message
    flash(message, "error")
    return None


def url_for_page(number: int, **cursor: int) -> str:
    """This page's URL with its filters kept and another page number; for a seek page, with
    the row it starts ``after`` or ends ``before`` (see portal.pagination)."""
    args: dict[str, Any] = {key: value for key, value in request.args.to_dict().items()
                            if key not in ("after", "before")}
    args.update(request.view_args or {}, page=number, **cursor)
    return url_for(request.endpoint or "core.dashboard", **args)


def field_errors(form: Any) -> list[tuple[str | None, str, str]]:
    """Every error of a form, nested forms included: (field id, label, message)."""
    found: list[tuple[str | None, str, str]] = [(None, "", str(message)) for message in form.form_errors]
    for field in form:
        if hasattr(field, "form") and hasattr(field.form, "_fields"):  # FormField
            nested = [(fid, f"{field.label.text} – {label}", message)
                      for fid, label, message in field_errors(field.form)]
            found.extend(nested)
        else:
            found.extend((field.id, str(field.label.text), str(message)) for message in field.errors
                         if not isinstance(message, dict))
    return found

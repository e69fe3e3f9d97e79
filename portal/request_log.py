"""Request logs an operator can read: every request gets an id (``X-Request-ID``, shown on
error pages so a user can quote it) and one line on the ``portal.requests`` logger.

A line names the URL *rule* (``/password/reset/<token>``), never the path, which carries
tokens; it holds no query string, form, header or cookie, and the user by id, never by
e-mail. ``LOG_FORMAT`` ("text" or "json") is the format of every ``portal.*`` record on
stderr, ``LOG_LEVEL`` their level.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sys
import time
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect

from . import error_reports

PORTAL_LOGGER = "portal"
REQUEST_LOGGER = "portal.requests"
HEADER = "X-Request-ID"
UNMATCHED = "<unmatched>"  # the rule logged when no URL rule matched (404, 405)
FORMATS = ("text", "json")
# The fields of a request's line, in this order.
FIELDS = ("request_id", "method", "rule", "endpoint", "status", "duration_ms", "user")

# Kept in the WSGI environ, which belongs to one request (``g`` can outlive one in tests).
_ID = "portal.request_id"
_STARTED = "portal.request_started"
_LOGGED = "portal.request_logged"
# The attribute of a log record that holds a request line's fields.
_RECORD_FIELDS = "portal_request"

log = logging.getLogger(REQUEST_LOGGER)


def init_request_log(app: Flask) -> None:
    """Give every request an id and a log line, set up the ``portal`` logger's format and level,
    and start the error reports (``SENTRY_DSN``). Call it before the other hooks are registered:
    its ``after_request`` then runs last, when the response is ready."""
    configure_logging(app.config)
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_finish_unanswered)
    error_reports.init_error_reports(app)


def request_id() -> str:
    """The current request's id (16 hex characters), made on first use and kept on ``g``."""
    environ = request.environ
    found = environ.get(_ID)
    if found is None:
        found = environ[_ID] = secrets.token_hex(8)
        environ.setdefault(_STARTED, time.perf_counter())
    g.request_id = found
    return str(found)


def signed_in_user_id(load: bool = True) -> Any:
    """The id of the user the current request is signed in as, or "-". With ``load=False`` the
    user is not looked up if the request has not done so already (the database may be down).
    The id comes from the session's identity map, so a user the request's commit expired is
    not loaded again for its log line."""
    try:
        user = current_user._get_current_object() if load else g.get("_login_user")
        state = sa_inspect(user, raiseerr=False) if user is not None else None
        if state is not None and state.identity:  # a user's row (the anonymous user has none)
            return state.identity[0]
    except Exception:  # a database failing at the end of a request must not cost its log line
        return "-"
    return "-"


def _begin() -> None:
    request_id()


def _finish(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    _log_request(response.status_code)
    return response


def _finish_unanswered(error: BaseException | None) -> None:
    # The response never reached the after_request hooks: an exception went past the error
    # pages (the 500 page failed, or exceptions propagate) and the server answers 500.
    if not request.environ.get(_LOGGED):
        _log_request(500, load_user=False)


def _log_request(status: int, load_user: bool = True) -> None:
    environ = request.environ
    if environ.get(_LOGGED):
        return
    environ[_LOGGED] = True
    rid = request_id()
    rule = request.url_rule
    fields = {
        "request_id": rid,
        "method": request.method,
        "rule": rule.rule if rule is not None else UNMATCHED,
        "endpoint": request.endpoint or "-",
        "status": status,
        "duration_ms": round((time.perf_counter() - environ[_STARTED]) * 1000, 1),
        "user": signed_in_user_id(load=load_user),
    }
    log.info(logfmt(fields), extra={_RECORD_FIELDS: fields})


# Formats --------------------------------------------------------------------------------------


def logfmt(fields: dict[str, Any]) -> str:
    """``key=value`` pairs separated by spaces; a value with a space, quote, ``=`` or control
    character is quoted as a JSON string."""
    return " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())


def _logfmt_value(value: Any) -> str:
    text = "-" if value is None else str(value)
    if text and text.isprintable() and not any(c in text for c in ' "=\\'):
        return text
    return json.dumps(text, ensure_ascii=False)


def _utc_time(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {"time": _utc_time(record), "level": record.levelname, "logger": record.name}
    request_fields = getattr(record, _RECORD_FIELDS, None)
    if isinstance(request_fields, dict):
        fields.update(request_fields)
    else:
        fields["message"] = record.getMessage()
    return fields


class TextFormatter(logging.Formatter):
    """One ``key=value`` line per record (``time=… level=… logger=…`` then a request's fields, or
    ``message="…"``); a traceback follows on the lines after it."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a ``key=value`` line, and its traceback if it has one."""
        line = logfmt(_record_fields(record))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``, then a request's
    fields or ``message``, and ``exception`` with the traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        fields = _record_fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return json.dumps(fields, ensure_ascii=False, default=str)


class PortalStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test's capture, say), not to
    the stream there was when the handler was made."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` to the current stderr."""
        self.stream = sys.stderr
        super().emit(record)


class NoRawPaths(logging.Filter):
    """Flask logs an unhandled exception as "Exception on <path> [<method>]", and a path may
    carry a token: the record names the URL rule and the request id instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite Flask's message in place; every record passes."""
        if has_request_context() and record.msg == f"Exception on {request.path} [{request.method}]":
            rule = request.url_rule
            record.msg = "Exception on %s [%s] request_id=%s"
            record.args = (rule.rule if rule is not None else UNMATCHED, request.method, request_id())
        return True


def log_level(value: Any) -> int:
    """``LOG_LEVEL`` as a number: a name ("INFO", "warning") or a number."""
    if isinstance(value, int):
        return value
    number = logging.getLevelName(str(value).strip().upper())
    if not isinstance(number, int):
        raise RuntimeError(f"LOG_LEVEL is {value!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    return number


def configure_logging(config: Any) -> None:
    """Set the ``portal`` logger's level and format from ``LOG_LEVEL`` and ``LOG_FORMAT``.

    A stderr handler is added only while the logger has none (an installation's own logging
    set-up is kept; building the app again adds no second one); the portal's own handler takes
    the format of the app built last. Werkzeug's server logs each request with its raw path
    (reset and invitation tokens): its logger is kept at WARNING.
    """
    chosen = str(config.get("LOG_FORMAT") or "text").strip().lower()
    if chosen not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT is {config.get('LOG_FORMAT')!r}: use \"text\" or \"json\".")
    portal = logging.getLogger(PORTAL_LOGGER)
    portal.setLevel(log_level(config.get("LOG_LEVEL") or "INFO"))
    if not portal.handlers:
        portal.addHandler(PortalStderrHandler())
    formatter = JsonFormatter() if chosen == "json" else TextFormatter()
    for handler in portal.handlers:
        if isinstance(handler, PortalStderrHandler):
            handler.setFormatter(formatter)
    if not any(isinstance(f, NoRawPaths) for f in portal.filters):
        portal.addFilter(NoRawPaths())
    werkzeug = logging.getLogger("werkzeug")
    if werkzeug.level < logging.WARNING:  # unset too: Werkzeug would set INFO on first use
        werkzeug.setLevel(logging.WARNING)

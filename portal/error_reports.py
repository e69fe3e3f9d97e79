"""Unhandled errors reported to Sentry (``sentry-sdk``), only when ``SENTRY_DSN`` is set.

A report keeps what an operator needs to find the request (its id, as the ``request_id``
tag, the URL rule and the method) and the user's id; it sends nothing else of the request or
the person: no URL, query string, form, headers, cookies or e-mail address, and no local
variables of the frames (a form's passport number could be one of them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask import Flask, g, has_request_context, request

if TYPE_CHECKING:
    from sentry_sdk.types import Breadcrumb, BreadcrumbHint, DataCollectionUserOptions, Event, Hint

# What is kept of the event's "request": the rest (url, query_string, data, headers, cookies,
# env) can carry tokens and personal data.
KEPT_REQUEST_KEYS = ("method",)
# Query strings and fragments of outgoing HTTP calls, in their breadcrumbs.
DROPPED_BREADCRUMB_DATA = ("http.query", "http.fragment")
# What the SDK's integrations collect by themselves: nothing that could be personal.
NOTHING_PERSONAL: DataCollectionUserOptions = {
    "user_info": False,  # Flask-Login's id is the session token; the e-mail address
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "off"}},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "graphql": {"document": False, "variables": False},
    "gen_ai": {"inputs": False, "outputs": False},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,  # a form's passport number can be one
}


def init_error_reports(app: Flask) -> None:
    """Start reporting unhandled errors to ``SENTRY_DSN``; without it, do nothing. The client is
    the process's: the last app built with a DSN sets it."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("ENV"),
        integrations=[FlaskIntegration()],
        # What send_default_pii=False meant (it is deprecated since sentry-sdk 2.75), and less:
        # no user details, cookies, headers, bodies, query strings, SQL values or frame variables.
        data_collection=NOTHING_PERSONAL,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )


def scrub_event(event: Event, hint: Hint) -> Event:
    """``before_send``: keep the method of the event's request and the user's id only, and tag
    the event with the request id and URL rule."""
    data = cast(dict[str, Any], event)
    if "request" in data:
        data["request"] = {key: data["request"][key] for key in KEPT_REQUEST_KEYS if key in data["request"]}
    kept = _user_id() if has_request_context() else (data.get("user") or {}).get("id")
    data.pop("user", None)  # e-mail, name, IP address, Flask-Login's id (the session token)
    if kept is not None:
        data["user"] = {"id": str(kept)}
    if has_request_context():
        tags = data.setdefault("tags", {})
        if g.get("request_id"):
            tags["request_id"] = g.request_id
        if request.url_rule is not None:
            tags["url_rule"] = request.url_rule.rule
    (data.get("extra") or {}).pop("sys.argv", None)  # a command's arguments can hold a password
    for stacktrace in _stacktraces(data):
        for frame in stacktrace.get("frames") or []:
            frame.pop("vars", None)
    return event


def scrub_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb:
    """``before_breadcrumb``: an outgoing HTTP call's breadcrumb without its query string."""
    data = cast(dict[str, Any], crumb).get("data")
    if isinstance(data, dict):
        for key in DROPPED_BREADCRUMB_DATA:
            data.pop(key, None)
    return crumb


def _user_id() -> Any:
    # The user the request has already loaded: no database query while reporting an error.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id
    return None


def _stacktraces(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for key in ("exception", "threads"):
        for value in (data.get(key) or {}).get("values") or []:
            if isinstance(value.get("stacktrace"), dict):
                found.append(value["stacktrace"])
    if isinstance(data.get("stacktrace"), dict):
        found.append(data["stacktrace"])
    return found

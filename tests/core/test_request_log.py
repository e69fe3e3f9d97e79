"""Request logs (``portal.request_log``): every response carries its request id, and each request
has one line on ``portal.requests`` naming the URL rule (never the path, which carries tokens),
the user by id (never by e-mail), the status and the time taken; a 500 too, whose page shows
the same id. Unhandled errors go to Sentry without the form, cookies or e-mail (``SENTRY_DSN``)."""

from __future__ import annotations

import gzip
import json
import logging
import re
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage
from portal.permissions import PUBLIC, SIGNED_IN, allow
from portal.request_log import (
    FIELDS,
    UNMATCHED,
    JsonFormatter,
    PortalStderrHandler,
    TextFormatter,
)
from tests.fixtures.logs import Records

REQUEST_ID = re.compile(r"^[0-9a-f]{16}$")
PASSWORD = "correct horse battery"


@pytest.fixture
def capture() -> Iterator[Any]:
    """``capture("portal.requests")``: the records of that logger (and those below it) from now on."""
    attached: list[tuple[logging.Logger, Records]] = []

    def _capture(name: str) -> list[logging.LogRecord]:
        handler = Records()
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        attached.append((logger, handler))
        return handler.records

    yield _capture
    for logger, handler in attached:
        logger.removeHandler(handler)


def answered(app: Flask) -> list[tuple[str, str, str | None]]:
    """Every response ``app`` sends from now on, as the WSGI server sees it: (method, status,
    X-Request-ID), in order, the requests the test client makes by itself (CSRF probes) too."""
    seen: list[tuple[str, str, str | None]] = []
    inner = app.wsgi_app

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append((environ["REQUEST_METHOD"], status, dict(headers).get("X-Request-ID")))
            return start_response(status, headers, exc_info)
        return inner(environ, start)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    return seen


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return record.portal_request  # type: ignore[attr-defined, no-any-return]


def formatted(records: list[logging.LogRecord]) -> str:
    """The records as both formats would write them."""
    return "\n".join(formatter.format(record) for record in records
                     for formatter in (TextFormatter(), JsonFormatter()))


def one_line_per_response(lines: list[logging.LogRecord], seen: list[tuple[str, str, str | None]]) -> None:
    assert all(REQUEST_ID.match(rid or "") for _, _, rid in seen), seen
    assert len({rid for _, _, rid in seen}) == len(seen), "request ids repeat"
    assert [fields(r)["request_id"] for r in lines] == [rid for _, _, rid in seen]
    assert [(fields(r)["method"], fields(r)["status"]) for r in lines] == [
        (method, int(status.split()[0])) for method, status, _ in seen]
    for record in lines:
        assert record.levelno == logging.INFO and record.name == "portal.requests"
        assert list(fields(record)) == list(FIELDS)
        duration = fields(record)["duration_ms"]
        assert isinstance(duration, float) and duration >= 0 and round(duration, 1) == duration


def test_every_response_has_its_id_and_one_line(app: Flask, client: Any, make_user: Any, login: Any,
                                                capture: Any) -> None:
    user = make_user(email="someone.private@example.org")
    seen = answered(app)
    lines = capture("portal.requests")

    assert client.get("/").status_code == 302  # signed out: to the sign-in page
    login(user)  # a GET for the CSRF token, then the POST
    page = client.get("/")
    missing = client.get("/no/such/page")
    with client.get("/static/css/portal.css") as static:  # a file: its stream is closed after
        assert static.get_data()
    changed = client.post("/language", data={"language": "ru"})

    assert (page.status_code, missing.status_code, static.status_code) == (200, 404, 200)
    for response in (page, missing, static, changed):
        assert REQUEST_ID.match(response.headers["X-Request-ID"])
    one_line_per_response(lines, seen)
    by_id = {fields(r)["request_id"]: fields(r) for r in lines}
    assert by_id[page.headers["X-Request-ID"]] | {"duration_ms": 0} == {
        "request_id": page.headers["X-Request-ID"], "method": "GET", "rule": "/", "endpoint": "core.dashboard",
        "status": 200, "duration_ms": 0, "user": user.id}
    assert by_id[missing.headers["X-Request-ID"]]["rule"] == UNMATCHED
    assert by_id[missing.headers["X-Request-ID"]]["endpoint"] == "-"
    assert by_id[static.headers["X-Request-ID"]]["rule"] == "/static/<path:filename>"
    assert by_id[changed.headers["X-Request-ID"]]["method"] == "POST"
    assert [fields(r)["user"] for r in lines] == ["-", "-", user.id, user.id, user.id, user.id, user.id, user.id]

    # The 404 page tells the visitor the id to quote.
    assert f"quote reference {missing.headers['X-Request-ID']}." in missing.get_data(as_text=True)
    text = formatted(lines)
    assert user.email not in text and "no/such/page" not in text and PASSWORD not in text
    dashboard = next(r for r in lines if fields(r)["request_id"] == page.headers["X-Request-ID"])
    assert re.fullmatch(
        r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=INFO logger=portal\.requests "
        rf"request_id={page.headers['X-Request-ID']} method=GET rule=/ endpoint=core\.dashboard status=200 "
        rf"duration_ms=\d+\.\d user={user.id}", TextFormatter().format(dashboard))


def test_the_reset_link_is_logged_by_its_rule_never_its_token(app: Flask, client: Any, make_user: Any,
                                                               capture: Any) -> None:
    user = make_user(email="forgetful@example.org")
    seen = answered(app)
    lines = capture("portal.requests")
    everything = capture("portal")
    assert client.post("/password/forgot", data={"email": user.email}).status_code == 303
    body = db.session.scalars(select(OutboxMessage)).one().body_text
    link = re.search(r"https?://[^/\s]+(/password/reset/(\S+))", body)
    assert link, body
    path, token = link.group(1), link.group(2)

    assert client.get(path).status_code == 200
    new_password = "my new password 1"
    response = client.post(path, data={"password": new_password, "confirm": new_password})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get(path).status_code == 410  # used: the link no longer works, and is logged the same

    one_line_per_response(lines, seen)
    reset_lines = [fields(r) for r in lines if fields(r)["endpoint"] == "auth.reset_password"]
    assert [(f["method"], f["rule"], f["status"]) for f in reset_lines] == [
        ("GET", "/password/reset/<token>", 200), ("POST", "/password/reset/<token>", 303),
        ("GET", "/password/reset/<token>", 410)]
    text = formatted(everything)
    assert fields(lines[-1])["request_id"] in text
    for secret in (token, path, new_password, user.email):
        assert secret not in text


def test_json_lines_on_stderr(make_app: Any, make_user: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The handler the portal puts on the ``portal`` logger writes JSON for requests and for every
    other ``portal.*`` record; building apps again adds no second handler."""
    make_app()
    app = make_app(LOG_FORMAT="json")
    portal = logging.getLogger("portal")
    ours = [h for h in portal.handlers if isinstance(h, PortalStderrHandler)]
    assert len(ours) == 1 and portal.handlers == ours, "the portal's own handler, once"
    client = app.test_client()
    capsys.readouterr()

    missing = client.get("/no/such/page?token=secret-in-the-query")
    signed_out = client.get("/profile")
    logging.getLogger("portal.tasks").warning("job %s had stalled: queued again", 7)
    try:
        raise ValueError("a broken thing")
    except ValueError:
        logging.getLogger("portal.tasks").exception("could not queue it")
    written = [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    requests = [w for w in written if w["logger"] == "portal.requests"]
    assert [(r["request_id"], r["status"], r["rule"], r["user"]) for r in requests] == [
        (missing.headers["X-Request-ID"], 404, UNMATCHED, "-"),
        (signed_out.headers["X-Request-ID"], 302, "/profile", "-")]
    for line in requests:
        assert set(line) == {"time", "level", "logger", *FIELDS}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]) and line["level"] == "INFO"
        assert isinstance(line["duration_ms"], float)
    others = [w for w in written if w["logger"] == "portal.tasks"]
    assert [(o["level"], o["message"]) for o in others] == [
        ("WARNING", "job 7 had stalled: queued again"), ("ERROR", "could not queue it")]
    assert "ValueError: a broken thing" in others[1]["exception"]
    assert "secret-in-the-query" not in json.dumps(written)

    make_app()  # the next app built decides the format: text again
    capsys.readouterr()
    response = make_app().test_client().get("/no/such/page")
    err = capsys.readouterr().err
    assert f"request_id={response.headers['X-Request-ID']} method=GET rule={UNMATCHED} endpoint=- status=404" in err


def test_settings_are_checked_and_werkzeug_keeps_quiet(make_app: Any) -> None:
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        make_app(LOG_FORMAT="xml")
    with pytest.raises(RuntimeError, match="LOG_LEVEL"):
        make_app(LOG_LEVEL="LOUD")
    make_app(LOG_LEVEL="warning")
    assert logging.getLogger("portal").level == logging.WARNING
    make_app()
    assert logging.getLogger("portal").level == logging.INFO
    # Werkzeug's server would log every request's raw path, tokens and all, at INFO.
    assert logging.getLogger("werkzeug").level >= logging.WARNING


def test_an_installations_own_handler_is_kept(make_app: Any) -> None:
    portal = logging.getLogger("portal")
    saved = portal.handlers[:]
    own = logging.StreamHandler()
    portal.handlers = [own]
    try:
        make_app(LOG_FORMAT="json")
        assert portal.handlers == [own] and own.formatter is None
    finally:
        portal.handlers = saved


def failing_app(make_app: Any, **settings: Any) -> Flask:
    """A fresh portal with a page that fails: ``/fail/<token>`` (GET) and ``/fail`` (POST, signed in)."""
    app: Flask = make_app(**settings)

    @app.get("/fail/<token>")
    @allow(PUBLIC)
    def fail_with_token(token: str) -> str:
        raise RuntimeError("something broke")

    @app.post("/fail", endpoint="fail_form")
    @allow(SIGNED_IN)
    def fail_form() -> str:
        passport_number = request.form["passport_number"]
        raise RuntimeError(f"could not file the form ({len(passport_number)} characters)")

    return app


def test_a_500_is_logged_and_its_page_shows_the_same_id(make_app: Any, capture: Any) -> None:
    app = failing_app(make_app, PROPAGATE_EXCEPTIONS=False)  # as in production: the 500 page answers
    seen = answered(app)
    lines = capture("portal.requests")
    everything = capture("portal")

    response = app.test_client().get("/fail/a-secret-token-123")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert f"quote reference {request_id}." in response.get_data(as_text=True)
    one_line_per_response(lines, seen)
    assert (fields(lines[0])["request_id"], fields(lines[0])["status"], fields(lines[0])["rule"]) == (
        request_id, 500, "/fail/<token>")
    # Flask's own record of the exception names the rule and the request id, not the path.
    errors = [r for r in everything if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [f"Exception on /fail/<token> [GET] request_id={request_id}"]
    assert "RuntimeError: something broke" in formatted(errors)
    assert "a-secret-token-123" not in formatted(everything)


def test_an_exception_that_goes_past_the_error_pages_is_logged_as_500(make_app: Any, capture: Any) -> None:
    app = failing_app(make_app)  # under TESTING exceptions propagate: no response, no after_request
    lines = capture("portal.requests")
    with pytest.raises(RuntimeError, match="something broke"):
        app.test_client().get("/fail/a-secret-token-123")
    assert [(fields(r)["status"], fields(r)["rule"], fields(r)["endpoint"]) for r in lines] == [
        (500, "/fail/<token>", "fail_with_token")]
    assert REQUEST_ID.match(fields(lines[0])["request_id"])


class Collector(BaseHTTPRequestHandler):
    """Answers Sentry's envelope posts and keeps their (decompressed) bodies."""

    bodies: list[tuple[str, bytes]]

    def do_POST(self) -> None:  # noqa: N802 (the http.server name)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]
            raw = brotli.decompress(raw)
        self.server.bodies.append((self.path, raw))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def sentry_server() -> Iterator[Any]:
    """A Sentry stand-in on 127.0.0.1; the SDK's client is reset afterwards."""
    import sentry_sdk

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        server.shutdown()
        server.server_close()
        thread.join()


def test_sentry_gets_the_request_id_and_nothing_personal(make_app: Any, make_user: Any, sentry_server: Any) -> None:
    import sentry_sdk

    user = make_user(email="anna.private@example.org")
    email, user_id, session_token = user.email, user.id, user.session_token
    dsn = f"http://publickey@127.0.0.1:{sentry_server.server_port}/1"
    app = failing_app(make_app, PROPAGATE_EXCEPTIONS=False, SENTRY_DSN=dsn)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 303
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.value

    response = client.post("/fail", data={"passport_number": "751234567", "note": email},
                           query_string={"token": "query-secret-42"})
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    sentry_sdk.flush(timeout=10)

    assert sentry_server.bodies, "no envelope reached the server"
    assert {path for path, _ in sentry_server.bodies} == {"/api/1/envelope/"}
    everything = b"\n".join(body for _, body in sentry_server.bodies).decode()
    events = [json.loads(line) for _, body in sentry_server.bodies for line in body.decode().splitlines()
              if line.startswith("{") and '"exception"' in line]
    assert len(events) == 1, everything[:2000]
    event = events[0]
    assert event["tags"]["request_id"] == request_id and event["tags"]["url_rule"] == "/fail"
    assert event["user"] == {"id": str(user_id)}
    assert event["request"] == {"method": "POST"}
    assert event["exception"]["values"][-1]["value"] == "could not file the form (9 characters)"
    for secret in ("751234567", cookie.value, email, session_token, "query-secret-42", PASSWORD):
        assert secret not in everything

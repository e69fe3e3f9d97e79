"""The login limits hold across workers: production counts failed sign-ins in a shared store.

With ``memory://`` each gunicorn worker counts alone, so three workers let about fifteen
failures through instead of five. Production therefore refuses to start on it, and the
real portal under gunicorn, three sync workers on Redis, refuses the sixth failure.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from cryptography.fernet import Fernet

from portal.extensions import limiter
from tests.fixtures.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"ENV": "production", "TESTING": False, "SECRET_KEY": "a-long-configured-production-secret",
              "BASE_URL": "https://portal.example.org"}
WORKERS = 3
WRONG_PASSWORD = "not the password at all"
FAILURE_MESSAGE = "e-mail address or password is not right"
READY_TIMEOUT = 60.0
# The worker's pid, then what it served: "<4242> POST /login 422".
ACCESS_LOG_FORMAT = "%(p)s %(m)s %(U)s %(s)s"
ACCESS_LINE = re.compile(r"^<(\d+)> (\S+) (\S+) (\d{3})$")


@pytest.mark.parametrize("storage", ["memory://", "", " Memory:// "])
def test_production_refuses_a_limit_store_each_worker_keeps_to_itself(make_app, storage):
    with pytest.raises(RuntimeError, match=r"RATELIMIT_STORAGE_URI.*redis://host:6379/0"):
        make_app(**PRODUCTION, RATELIMIT_STORAGE_URI=storage)


def test_production_starts_on_a_shared_redis_store(make_app, redis_url):
    app = make_app(**PRODUCTION, RATELIMIT_STORAGE_URI=redis_url)
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
    assert type(limiter.storage).__name__ == "RedisStorage"
    assert limiter.storage.check()  # it answers


def test_development_keeps_the_memory_store(make_app):
    app = make_app(TESTING=False)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


class Gunicorn:
    """The portal served by gunicorn's sync workers on a loopback port, configured as an
    operator would: through ``PORTAL_*`` variables and ``DATABASE_URL``."""

    def __init__(self, directory: Path, settings: dict[str, str]) -> None:
        self.port = free_port()
        self.access_log = directory / "access.log"
        self.error_log = directory / "error.log"
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith("PORTAL_") and name != "DATABASE_URL"}
        environment.update(settings)
        executable = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(executable), "--workers", str(WORKERS), "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
             "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_LOG_FORMAT,
             "--error-logfile", str(self.error_log), "portal:create_app()"],
            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def connect(self) -> http.client.HTTPConnection:
        """A new TCP connection, open (and queued for a worker) before any request is sent."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.connect()
        return connection

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.errors()}")
            try:
                status, _, _ = send(self.connect(), "GET", "/login")
            except OSError:
                status = None
            if status == 200:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not serve /login within {READY_TIMEOUT:.0f}s "
                            f"(last status {status}):\n{self.errors()}")
            time.sleep(0.1)  # a bounded wait for readiness, polled

    def errors(self) -> str:
        return self.error_log.read_text(errors="replace")[-4000:] if self.error_log.exists() else ""

    def stop(self) -> None:
        """Stop gracefully (workers finish and write their access-log lines); kill if stuck."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def served(self) -> list[tuple[int, str, str, int]]:
        """(worker pid, method, path, status) of every request, from the access log."""
        lines = self.access_log.read_text().splitlines()
        matches = [ACCESS_LINE.match(line) for line in lines]
        assert all(matches), lines
        return [(int(m[1]), m[2], m[3], int(m[4])) for m in matches if m]


def send(connection: http.client.HTTPConnection, method: str, path: str, body: dict[str, str] | None = None,
         cookie: str | None = None) -> tuple[int, http.client.HTTPMessage, str]:
    """One request on ``connection``, which is then closed."""
    headers = {"Connection": "close"}
    if cookie:
        headers["Cookie"] = cookie
    data = None
    if body is not None:
        data = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, response.headers, text
    finally:
        connection.close()


@pytest.fixture
def gunicorn_portal(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Gunicorn]:
    directory = tmp_path / "gunicorn"
    directory.mkdir()
    server = Gunicorn(directory, {
        "PORTAL_INSTANCE_PATH": str(directory / "instance"),
        "DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "a-long-secret-the-three-workers-share",
        "PORTAL_FIELD_ENCRYPTION_KEYS": json.dumps([Fernet.generate_key().decode()]),
        "PORTAL_RATELIMIT_STORAGE_URI": redis_url,
        "PORTAL_PASSWORD_HASH_PARAMS": json.dumps({"time_cost": 1, "memory_cost": 1024, "parallelism": 1}),
    })
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


def test_the_sixth_failed_sign_in_is_refused_whichever_worker_answers(gunicorn_portal, make_user, redis_url):
    server = gunicorn_portal
    victim, bystander = make_user(), make_user()

    # The sign-in form, for the CSRF token and the session cookie that holds its secret.
    status, headers, html = send(server.connect(), "GET", "/login")
    assert status == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, html[:2000]
    cookies = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    assert "session" in cookies
    cookie = f"session={cookies['session'].value}"

    def attempt(connection: http.client.HTTPConnection, email: str) -> tuple[int, str]:
        status, _, html = send(connection, "POST", "/login", cookie=cookie,
                               body={"csrf_token": token[1], "email": email, "password": WRONG_PASSWORD})
        return status, html

    # Attempts go in pairs, each on a new connection. The first connection of a pair is
    # opened and left silent: the sync worker that accepted it waits for its request, so
    # the second connection, served first, must be served by another worker.
    results = []
    for _ in range(3):
        waiting, fresh = server.connect(), server.connect()
        results.append(attempt(fresh, victim.email))
        results.append(attempt(waiting, victim.email))

    for number, (status, html) in enumerate(results[:5], start=1):
        assert status in (200, 422), f"attempt {number}: {status}"
        assert FAILURE_MESSAGE in html, f"attempt {number} was not a failed sign-in"
    assert results[5][0] == 429, f"attempt 6 answered {results[5][0]}"
    # The limit is the account's: another account from the same address still gets the form.
    other_status, other_html = attempt(server.connect(), bystander.email)
    assert other_status in (200, 422) and FAILURE_MESSAGE in other_html

    client = redis.Redis.from_url(redis_url)
    try:
        assert any(b"login-account" in key for key in client.keys()), "nothing was counted in Redis"
    finally:
        client.close()

    server.stop()  # the workers write their access-log lines after each response
    posts = [(pid, status) for pid, method, path, status in server.served() if method == "POST"]
    assert [status for _, status in posts] == [status for status, _ in results] + [other_status]
    pids = [pid for pid, _ in posts[:6]]
    assert len(set(pids)) >= 2, f"all attempts were served by one worker: {pids}"
    for first, second in zip(pids[0::2], pids[1::2], strict=True):
        assert first != second, pids

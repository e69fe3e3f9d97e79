"""Benchmark: the staff pages at 1k and 100k applications, against two baselines, in one run.

    python bench/pages.py [--db URL] [--seed N] [--requests N] [--max-seconds S] [--enforce]

For one database URL (a SQLite file or a PostgreSQL database) it:

1. seeds a 1k and a 100k database next to it (``<name>_1k_s<seed>``, ``<name>_100k_s<seed>``)
   with ``flask --app portal bench-seed``, or reuses them when they already hold that size,
   seed and ``SEED_VERSION`` (bench-seed records them in an audit event) from this year;
   either way ``db upgrade`` runs first, so new migrations (indexes) apply;
2. in-process (the Flask test client, signed in through the login form, CSRF and all):
   counts the SQL statements each page issues (a ``before_cursor_execute`` listener) and
   times a few requests, at both sizes, page by page, each built afresh (the page cache
   emptied first), then counts the statements of the page served again from the cache;
3. serves the portal at 1k and at 100k, a bare Flask hello-world and a bare Flask +
   SQLAlchemy 50-row table from the 100k database (``bench/baselines.py``), each under
   gunicorn with two sync workers on a free loopback port, all four at once (idle workers
   cost nothing), signs in as staff and as finance with real session cookies, and for each
   page sends a short burst to each baseline, then a fixed number of requests to the page at
   1k and then at 100k, then the same to the portal with its page cache off (every request
   builds the page, ``PORTAL_CACHE_TYPE=NullCache``), on two keep-alive connections (threads +
   ``http.client``; gunicorn's sync workers close each connection and ``http.client`` opens the
   next): req/s, p50, p95.
   Measuring the reference and both sizes back to back keeps the ratios honest on a machine
   whose other load comes and goes;
4. exports every expense line as CSV at 100k (``/expenses/review.csv?status=all``) in a fresh
   process through the test client, and writes the same rows with the csv module straight
   from a database cursor in another: time and peak memory growth of each (Linux VmHWM,
   reset just before the export; ``ru_maxrss`` elsewhere);
5. approves APPROVALS submitted applications inline (the queue's htmx form, as a browser
   sends it) at both sizes, each on a copy of its database under gunicorn: p50 and p95;
6. prints a table, compares with issue 13's targets and writes this backend's section of
   ``bench/results.md`` (the other backend's section is kept).

Deep queue pages (100, 1000) that the 1k database does not have become its page at the same
point of the history, so both show rows of the same era.

Exits 0 whatever the results unless ``--enforce`` is given (then 1 if any target fails):
the pages are not optimised yet, so today's FAILs are the baseline the work starts from.
Requests per page are bounded by ``--requests`` and by ``--max-seconds`` per page, whichever
comes first (the table says how many were sent).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import functools
import html.parser
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal.bench_seed import LOGINS, PASSWORD, SEED_VERSION  # noqa: E402

INSTANCE = REPO / "instance" / "bench"
DEFAULT_DB = f"sqlite:///{INSTANCE / 'portal_bench.db'}"
RESULTS = REPO / "bench" / "results.md"
SMALL, LARGE = "1k", "100k"  # --large 10k for a quick try of the script itself
CONNECTIONS = 2
WORKERS = 2
PER_PAGE = 50
# Issue 13's targets.
TARGET_TABLE_SHARE = 0.5  # req/s at least half the bare 50-row table's
TARGET_STATEMENTS = 10  # at most, and the same at 1k and 100k
TARGET_P50_RATIO = 1.3  # p50(100k) / p50(1k)
TARGET_EXPORT_MB = 100  # peak memory growth exporting every expense line
TARGET_EXPORT_RATIO = 2.0  # time against the csv module straight from a cursor
EXPORT_PATH = "/expenses/review.csv?status=all"


@dataclass
class Page:
    name: str
    path: str  # may hold {page} (a deep page of the queue, clamped to the last page at 1k) and {after}
    role: str = "staff"
    deep: int | None = None

    def url(self, pages: int, pages_large: int, cursor: Any = None) -> tuple[str, str]:
        """(path, note) for a database whose all-states queue has ``pages`` full pages, when the
        large one has ``pages_large``. A deep page the database does not have becomes the page
        at the same point of its history (page 100 of 1,900 → page 1 of 19), so both sizes
        show rows of the same era and states. ``cursor(page)`` is the row page ``page`` starts
        after, as the link from the page before it names it."""
        if self.deep is None:
            return self.path, ""
        page = self.deep if self.deep <= pages else max(1, round(self.deep * pages / max(pages_large, self.deep)))
        after = cursor(page) if cursor and page > 1 else ""
        path = self.path.format(page=page, after=after)
        return (path if after else path.replace("&after=", "")), "" if page == self.deep else f"page {page}"


def staff_pages(today: dt.date) -> list[Page]:
    return [
        Page("dashboard", "/"),
        Page("review queue, page 1", "/applications/review"),
        Page("review queue (all), page 100", "/applications/review?status=all&page={page}&after={after}", deep=100),
        Page("review queue (all), page 1000", "/applications/review?status=all&page={page}&after={after}",
             deep=1000),
        Page("claims queue", "/expenses/review"),
        Page("budget, current year", "/expenses/budget"),
        Page("donors list", "/donors/"),
        Page("donations list", "/donors/donations"),
        Page("Gift Aid claims and what waits for the next", "/donors/gift-aid"),
        Page("dashboard (finance)", "/", role="finance"),
        Page("payments (finance)", "/expenses/payments", role="finance"),
    ]


@dataclass
class Measure:
    statements: int | None = None
    inproc_ms: float | None = None
    kb: float | None = None
    status: int | None = None
    note: str = ""
    n: int = 0
    rps: float | None = None
    hello_rps: float | None = None  # the baselines measured just before this page
    table_rps: float | None = None
    p50: float | None = None
    p95: float | None = None
    errors: int = 0
    # The page as built on every request (the page cache off), beside the page served again.
    statements_again: int | None = None
    built_rps: float | None = None
    built_p50: float | None = None
    built_table_rps: float | None = None


@dataclass
class Run:
    backend: str
    url: str
    seeds: dict[str, dict[str, Any]] = field(default_factory=dict)
    pages: list[Page] = field(default_factory=list)
    results: dict[tuple[str, str], Measure] = field(default_factory=dict)  # (size, page name)
    baselines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    export: dict[str, dict[str, Any]] = field(default_factory=dict)
    approvals: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)


def code_version(note: str | None) -> str:
    """Which code was measured: the commit (and whether portal/ had uncommitted changes)."""
    if note:
        return note
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "portal", "migrations"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" with uncommitted changes in portal/" if dirty else "")


def log(message: str) -> None:
    print(message, flush=True)


# --- Databases ------------------------------------------------------------------------------

def sized_url(base: str, size: str, seed: int) -> str:
    url = make_url(base)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "portal_bench.db")
        if not path.is_absolute():
            path = REPO / path
        return url.set(database=str(path.with_name(f"{path.stem}_{size}_s{seed}{path.suffix or '.db'}"))
                       ).render_as_string(hide_password=False)
    name = url.database or "portal_bench"
    if not name.startswith("portal_bench"):
        raise SystemExit(f"use a PostgreSQL database named portal_bench… (not {name!r}): this script drops and "
                         "creates the databases it seeds")
    return url.set(database=f"{name}_{size}_s{seed}").render_as_string(hide_password=False)


def portal_env(url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update({"DATABASE_URL": url, "PORTAL_INSTANCE_PATH": str(INSTANCE), "PYTHONPATH": str(REPO)})
    return env


def flask(url: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", *args], cwd=REPO, env=portal_env(url),
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def marker(url: str) -> dict[str, Any] | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            details = connection.scalar(text(
                "SELECT details FROM audit_events WHERE action = 'bench_seeded' ORDER BY id DESC LIMIT 1"))
    except Exception:
        return None
    finally:
        engine.dispose()
    return json.loads(details) if isinstance(details, str) else details


def recreate(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = str(parsed.database)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(path + suffix).unlink(missing_ok=True)
        return
    name = parsed.database
    assert name and name.startswith("portal_bench"), name
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def database_exists(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(str(parsed.database)).exists()
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        found = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": parsed.database})
    admin.dispose()
    return bool(found)


def ensure_seeded(url: str, size: str, seed: int) -> dict[str, Any]:
    """The database for this size and seed, reused if it is the one wanted, else made anew."""
    INSTANCE.mkdir(parents=True, exist_ok=True)
    found = marker(url) if database_exists(url) else None
    wanted = {"size": size, "seed": seed, "version": SEED_VERSION}
    if found and all(found.get(k) == v for k, v in wanted.items()) and \
            str(found.get("today", ""))[:4] == str(dt.date.today().year):
        flask(url, "db", "upgrade")
        log(f"  {size}: reusing {url} (seeded {found.get('today')})")
        return {"reused": True, "seconds": None, "counts": found.get("counts", {})}
    log(f"  {size}: seeding {url} …")
    recreate(url)
    flask(url, "db", "upgrade")
    started = time.perf_counter()
    output = flask(url, "bench-seed", "--size", size, "--seed", str(seed))
    seconds = time.perf_counter() - started
    for line in output.splitlines():
        if line.startswith(("  ", "Done")) and "bench-password" not in line:
            log(f"    {line.strip()}")
    return {"reused": False, "seconds": seconds, "counts": (marker(url) or {}).get("counts", {})}


# The review queue of every state, oldest first: the applications doctors have sent.
QUEUE_ROWS = ("FROM applications a JOIN funded_items f ON f.id = a.id "
              "WHERE f.status <> 'draft' AND a.submitted_at IS NOT NULL")


def queue_pages(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(text(f"SELECT COUNT(*) {QUEUE_ROWS}"))
    engine.dispose()
    return max(1, count // PER_PAGE)  # full pages: a deep page at 1k is the last full one


def queue_cursor(url: str, page: int) -> int:
    """The application page ``page`` of the queue (all states, oldest first) starts after: the
    last row of the page before, which that page's "Next" link names."""
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.scalar(text(f"SELECT a.id {QUEUE_ROWS} ORDER BY a.submitted_at, a.id LIMIT 1 OFFSET :n"),
                                {"n": (page - 1) * PER_PAGE - 1})
    engine.dispose()
    return int(row)


# --- In-process: statements and time --------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login_email(role: str) -> str:
    return next(email for r, email, _ in LOGINS if r == role)


def test_client_for(app: Any, role: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page)
    response = client.post("/login", data={"email": login_email(role), "password": PASSWORD,
                                           "csrf_token": token.group(1) if token else ""})
    if response.status_code != 303:
        raise SystemExit(f"in-process login as {role} failed: {response.status_code}")
    return client


def in_process(run: Run, urls: dict[str, str], pages: dict[str, int], repeats: int) -> None:
    """Statements and time per page in this process, both sizes page by page (so a change in
    the machine's load touches both alike)."""
    from portal import create_app
    from portal.extensions import cache, db

    apps, clients, counter = {}, {}, [0]

    def count(*args: Any) -> None:
        counter[0] += 1

    for size, url in urls.items():
        apps[size] = create_app({"INSTANCE_PATH": str(INSTANCE), "SQLALCHEMY_DATABASE_URI": url})
        with apps[size].app_context():
            event.listen(db.engine, "before_cursor_execute", count)
        clients[size] = {role: test_client_for(apps[size], role) for role in {p.role for p in run.pages}}
    for page in run.pages:
        for size in urls:
            path, note = page.url(pages[size], pages[LARGE], functools.partial(queue_cursor, urls[size]))
            client = clients[size][page.role]
            response = client.get(path)  # warm: templates compiled, caches filled
            times, statements = [], []
            for _ in range(repeats):  # the page as built: the page cache emptied before each
                with apps[size].app_context():
                    cache.clear()
                counter[0] = 0
                started = time.perf_counter()
                response = client.get(path)
                body = response.get_data()
                times.append(time.perf_counter() - started)
                statements.append(counter[0])
            counter[0] = 0
            client.get(path).get_data()  # and served again
            run.results[(size, page.name)] = Measure(
                statements=max(statements), inproc_ms=statistics.median(times) * 1000, kb=len(body) / 1024,
                status=response.status_code, note=note, statements_again=counter[0])
            log(f"    {page.name:<34} {size:>4}  {response.status_code}  {max(statements):>3} statements "
                f"({counter[0]} again)  {statistics.median(times) * 1000:8.1f} ms built  "
                f"{len(body) / 1024:8.1f} KB {note}")
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()


# --- Under gunicorn -------------------------------------------------------------------------

@functools.cache
def gunicorn_flags() -> list[str]:
    """Newer gunicorns open a control socket at one fixed path per user; several servers at
    once (ours, and whoever else runs gunicorn here) must not share it."""
    help_text = subprocess.run([sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with two sync workers on a free loopback port, stopped on exit."""

    def __init__(self, app_spec: str, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        logs = INSTANCE / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.log = open(logs / f"{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "600", "--pythonpath", f"{REPO},{REPO / 'bench'}",
             *gunicorn_flags(), app_spec],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def __enter__(self) -> Server:
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                status, _, _ = request(self.port, "GET", "/")
                if status < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer on port {self.port}; see {self.log.name}")

    def __exit__(self, *exc: Any) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group this script started
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def request(port: int, method: str, path: str, body: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        found: dict[str, list[str]] = {}
        for key, value in response.getheaders():
            found.setdefault(key.lower(), []).append(value)
        return response.status, found, response.read()
    finally:
        connection.close()


def http_login(port: int, role: str) -> str:
    """A real session cookie: the login page's CSRF token and cookie, then the form posted."""
    status, headers, body = request(port, "GET", "/login")
    cookies = SimpleCookie()
    for value in headers.get("set-cookie", []):
        cookies.load(value)
    token = CSRF.search(body.decode())
    form = urllib.parse.urlencode({"email": login_email(role), "password": PASSWORD,
                                   "csrf_token": token.group(1) if token else ""})
    cookie = "; ".join(f"{k}={m.value}" for k, m in cookies.items())
    status, headers, _ = request(port, "POST", "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    if status != 303:
        raise SystemExit(f"login as {role} over HTTP answered {status}")
    for value in headers.get("set-cookie", []):
        cookies.load(value)
    return "; ".join(f"{k}={m.value}" for k, m in cookies.items() if m.value)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def hammer(port: int, path: str, cookie: str | None, requests: int, max_seconds: float,
           warm: bool = True) -> dict[str, Any]:
    """``requests`` GETs on CONNECTIONS connections at once (fewer if max_seconds runs out),
    after one on each connection to warm both workers."""
    headers = {"Cookie": cookie} if cookie else {}
    if warm:
        hammer(port, path, cookie, CONNECTIONS, max_seconds, warm=False)
    lock = threading.Lock()
    issued = [0]
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            while True:
                with lock:
                    if issued[0] >= requests or time.perf_counter() > deadline:
                        return
                    issued[0] += 1
                started = time.perf_counter()
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status != 200:
                        errors[0] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"n": len(latencies), "rps": len(latencies) / wall, "p50": percentile(latencies, 0.5) * 1000,
            "p95": percentile(latencies, 0.95) * 1000, "errors": errors[0]}


def serve(run: Run, urls: dict[str, str], pages: dict[str, int], args: argparse.Namespace) -> None:
    """The baselines and the portal at both sizes all up at once (idle workers cost nothing);
    for each page: a burst at each baseline, then the page at 1k, then at 100k."""
    table_env = portal_env(urls[LARGE]) | {"BENCH_DATABASE_URL": urls[LARGE]}
    with contextlib.ExitStack() as stack:
        servers = {
            "hello": stack.enter_context(Server("baselines:hello()", table_env, "baseline-hello")),
            "table": stack.enter_context(Server("baselines:table()", table_env, "baseline-table")),
            **{size: stack.enter_context(Server("portal:create_app()", portal_env(url), f"portal-{size}"))
               for size, url in urls.items()},
            # The same portal building every page: what a page costs the first time after a change.
            **{f"built-{size}": stack.enter_context(Server(
                "portal:create_app()", portal_env(url) | {"PORTAL_CACHE_TYPE": "NullCache"}, f"portal-built-{size}"))
               for size, url in urls.items()}}
        cookies = {name: {role: http_login(servers[name].port, role) for role in {p.role for p in run.pages}}
                   for name in [*urls, *(f"built-{size}" for size in urls)]}
        for page in run.pages:
            reference = {}
            for name in ("hello", "table"):
                reference[name] = hammer(servers[name].port, "/", None, args.baseline_requests,
                                         args.baseline_seconds)
                run.baselines.setdefault(name, []).append(reference[name])
            log(f"    {'(baselines)':<34}       hello {reference['hello']['rps']:7.1f} req/s, "
                f"50-row table {reference['table']['rps']:6.1f} req/s")
            for size in urls:
                path, _ = page.url(pages[size], pages[LARGE], functools.partial(queue_cursor, urls[size]))
                result = hammer(servers[size].port, path, cookies[size][page.role], args.requests, args.max_seconds)
                measure = run.results.setdefault((size, page.name), Measure())
                measure.n, measure.rps, measure.p50, measure.p95, measure.errors = (
                    result["n"], result["rps"], result["p50"], result["p95"], result["errors"])
                measure.hello_rps, measure.table_rps = reference["hello"]["rps"], reference["table"]["rps"]
                errors = f", {result['errors']} errors" if result["errors"] else ""
                log(f"    {page.name:<34} {size:>4}  {result['rps']:7.2f} req/s  p50 {result['p50']:8.1f} ms  "
                    f"p95 {result['p95']:8.1f} ms  ({result['n']} requests{errors})")
            table = hammer(servers["table"].port, "/", None, args.baseline_requests, args.baseline_seconds)
            for size in urls:
                path, _ = page.url(pages[size], pages[LARGE], functools.partial(queue_cursor, urls[size]))
                built = hammer(servers[f"built-{size}"].port, path, cookies[f"built-{size}"][page.role],
                               args.requests, args.max_seconds)
                measure = run.results[(size, page.name)]
                measure.built_rps, measure.built_p50, measure.built_table_rps = built["rps"], built["p50"], table["rps"]
                measure.errors += built["errors"]
                log(f"    {page.name + ' (built)':<34} {size:>4}  {built['rps']:7.2f} req/s  "
                    f"p50 {built['p50']:8.1f} ms  p95 {built['p95']:8.1f} ms  ({built['n']} requests)")


# --- Inline approval ------------------------------------------------------------------------

APPROVALS = 60  # per size: each approves another submitted application
TARGET_APPROVE_P95_MS = 40.0  # at 100k (issue 13: "today 31 ms at p95 — keep it")


class FormFields(html.parser.HTMLParser):
    """The fields a browser would send from a form: inputs' values, selects' chosen options."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag in ("input", "textarea") and found.get("name") and found.get("type") not in ("submit", "button"):
            self.fields[found["name"]] = found.get("value", "")
        elif tag == "select" and found.get("name"):
            self._select, self._first = found["name"], None
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = found.get("value", "")
                self.fields.setdefault(self._select, self._first)
            if "selected" in found:
                self.fields[self._select] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def copy_database(url: str) -> str:
    """A copy of the database to change (approvals), so the seeded one stays as it was."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = Path(str(parsed.database))
        target = source.with_name(source.stem + "_approve" + source.suffix)
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
            if Path(str(source) + suffix).exists():
                shutil.copyfile(str(source) + suffix, str(target) + suffix)
        return parsed.set(database=str(target)).render_as_string(hide_password=False)
    name = f"{parsed.database}_approve"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def drop_copy(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(parsed.database) + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def approve_round_trips(run: Run, urls: dict[str, str]) -> None:
    """Open a submitted application's approval form and approve it as the queue does (htmx,
    the row swapped back), APPROVALS times at each size, on a copy of each database under
    gunicorn: p50 and p95 of the POST."""
    for size, url in urls.items():
        copy = copy_database(url)
        try:
            engine = create_engine(copy)
            with engine.connect() as connection:
                ids = list(connection.scalars(text(
                    "SELECT a.id FROM applications a JOIN funded_items f ON f.id = a.id "
                    "WHERE f.status = 'submitted' ORDER BY a.submitted_at DESC, a.id DESC LIMIT :n"),
                    {"n": APPROVALS}))
            engine.dispose()
            with Server("portal:create_app()", portal_env(copy), f"portal-approve-{size}") as server:
                cookie = http_login(server.port, "staff")
                _, _, page = request(server.port, "GET", "/applications/review", headers={"Cookie": cookie})
                token = CSRF.search(page.decode())
                headers = {"Cookie": cookie, "HX-Request": "true", "X-CSRFToken": token.group(1) if token else "",
                           "Content-Type": "application/x-www-form-urlencoded"}
                latencies, failures = [], 0
                for application_id in ids:
                    _, _, form = request(server.port, "GET", f"/applications/{application_id}/decision/approve",
                                         headers=headers)
                    parser = FormFields()
                    parser.feed(form.decode())
                    started = time.perf_counter()
                    status, _, _ = request(server.port, "POST", f"/applications/{application_id}/approve",
                                           urllib.parse.urlencode(parser.fields), headers)
                    latencies.append((time.perf_counter() - started) * 1000)
                    failures += status != 200
            run.approvals[size] = {"n": len(latencies), "p50": percentile(latencies, 0.5),
                                   "p95": percentile(latencies, 0.95), "failures": failures}
            log(f"    approve inline {size:>4}  p50 {run.approvals[size]['p50']:6.1f} ms  "
                f"p95 {run.approvals[size]['p95']:6.1f} ms  ({len(latencies)} approvals, {failures} not 200)")
        finally:
            drop_copy(copy)


# --- The export -----------------------------------------------------------------------------

def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM := current RSS
        return True
    except OSError:
        return False


def memory_kb(name: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class Sink:
    """Counts what is written and keeps none of it."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, data: str) -> int:
        self.bytes += len(data.encode())
        self.lines += data.count("\n")
        return len(data)


BARE_QUERY = """
SELECT l.id, l.claim_id, claimant.name, conf.name, conf.start_date, expert.name, clinic.name, v.arrival_on,
       l.category, l.spent_on, l.description, l.amount, l.currency, l.rate, l.amount_gbp, l.status,
       decider.name, p.reference, p.paid_on
FROM expense_lines l
JOIN expense_claims c ON c.id = l.claim_id
JOIN funded_items f ON f.id = c.funded_item_id
LEFT JOIN users claimant ON claimant.id = c.claimant_id
LEFT JOIN applications a ON a.id = f.id
LEFT JOIN conferences conf ON conf.id = a.conference_id
LEFT JOIN expert_visits v ON v.id = f.id
LEFT JOIN clinics clinic ON clinic.id = v.host_clinic_id
LEFT JOIN users expert ON expert.id = f.beneficiary_id AND f.kind = 'expert_visit'
LEFT JOIN users decider ON decider.id = l.decided_by_id
LEFT JOIN payments p ON p.id = l.payment_id
WHERE l.status <> 'draft'
ORDER BY l.id
"""


def probe_export(mode: str, url: str) -> dict[str, Any]:
    """Run in a fresh process: export every expense line, report time and peak memory growth."""
    if mode == "portal":
        from portal import create_app

        app = create_app({"INSTANCE_PATH": str(INSTANCE), "SQLALCHEMY_DATABASE_URI": url})
        client = test_client_for(app, "finance")
        client.get("/expenses/review.csv?status=all&q=no-such-line-anywhere").get_data()  # warm
        exact = reset_peak()
        before = memory_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        response = client.get(EXPORT_PATH, buffered=False)
        size = lines = 0
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        seconds = time.perf_counter() - started
        status = response.status_code
    else:
        engine = create_engine(url)
        connection = engine.raw_connection()
        exact = reset_peak()
        before = memory_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        postgres = engine.dialect.name == "postgresql"
        cursor: Any = connection.cursor(name="export") if postgres else connection.cursor()  # type: ignore[call-arg]
        if postgres:
            cursor.itersize = 5000
        cursor.execute(BARE_QUERY)
        sink = Sink()
        writer = csv.writer(sink)
        writer.writerow(["line", "claim", "claimant", "funded_item", "category", "date", "description", "amount",
                         "currency", "rate", "amount_gbp", "status", "decided_by", "payment_reference", "paid_on"])
        total = 0
        while batch := cursor.fetchmany(5000):
            for (line_id, claim_id, claimant, conference, start, expert, clinic, arrival, category, spent_on,
                 description, amount, currency, rate, amount_gbp, state, decider, reference, paid_on) in batch:
                if conference is not None:
                    item = f"{conference} ({str(start)[:4]})"
                else:
                    item = f"{expert or '?'} · {clinic} ({dt.date.fromisoformat(str(arrival)):%d.%m.%Y})"
                total += amount_gbp or 0
                writer.writerow([line_id, claim_id, claimant or "", item, category, str(spent_on), description,
                                 Decimal(amount).scaleb(-2), currency, rate if rate is not None else "",
                                 Decimal(amount_gbp).scaleb(-2) if amount_gbp is not None else "", state,
                                 decider or "", reference or "", str(paid_on) if paid_on else ""])
        writer.writerow(["total", "", "", "", "", "", "", "", "", "", Decimal(total).scaleb(-2)])
        cursor.close()
        connection.close()
        seconds = time.perf_counter() - started
        size, lines, status = sink.bytes, sink.lines, 200
    after = memory_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert before is not None and after is not None
    return {"seconds": seconds, "growth_mb": (after - before) / 1024, "peak_mb": after / 1024, "bytes": size,
            "lines": lines, "status": status, "measure": "VmHWM" if exact else "ru_maxrss"}


def export(run: Run, url: str) -> None:
    for mode in ("bare", "portal"):
        result = subprocess.run([sys.executable, __file__, "--probe-export", mode, "--db", url], cwd=REPO,
                                env=portal_env(url), capture_output=True, text=True)
        if result.returncode:
            log(f"    export ({mode}) failed:\n{result.stderr[-3000:]}")
            run.export[mode] = {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
            continue
        run.export[mode] = json.loads(result.stdout.strip().splitlines()[-1])
        found = run.export[mode]
        log(f"    {mode:<7} {found['seconds']:7.1f} s  peak growth {found['growth_mb']:8.1f} MB  "
            f"{found['lines']:,} lines  {found['bytes'] / 1e6:.1f} MB written")


# --- Report ---------------------------------------------------------------------------------

def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "**FAIL**")


def evaluate(run: Run) -> tuple[list[list[str]], list[str], int]:
    """The table rows (markdown), notes, and how many targets failed (as served; as built in
    the notes)."""
    rows, failures, built_failures = [], 0, 0
    for page in run.pages:
        small, large = run.results.get((SMALL, page.name), Measure()), run.results.get((LARGE, page.name), Measure())
        ratio = large.p50 / small.p50 if large.p50 and small.p50 else None
        share = large.rps / large.table_rps if large.rps and large.table_rps else None
        statements_ok = None if large.statements is None else (
            large.statements <= TARGET_STATEMENTS and large.statements == small.statements)
        checks = {"req/s": None if share is None else share >= TARGET_TABLE_SHARE, "statements": statements_ok,
                  "p50 ratio": None if ratio is None else ratio <= TARGET_P50_RATIO}
        if small.errors or large.errors or small.status != 200 or large.status != 200:
            checks["answers 200"] = False
        failed = [name for name, ok in checks.items() if ok is False]
        failures += len(failed)
        built_ratio = large.built_p50 / small.built_p50 if large.built_p50 and small.built_p50 else None
        built_share = large.built_rps / large.built_table_rps if large.built_rps and large.built_table_rps else None
        built_failed = [name for name, ok in {
            "req/s": None if built_share is None else built_share >= TARGET_TABLE_SHARE,
            "p50 ratio": None if built_ratio is None else built_ratio <= TARGET_P50_RATIO}.items() if ok is False]
        built_failures += len(built_failed)
        name = page.name + (f" (1k: {small.note})" if small.note else "")
        rows.append([
            name, f"{small.kb:.0f} / {large.kb:.0f}" if small.kb and large.kb else "—",
            f"{small.statements} → {large.statements} ({large.statements_again})",
            f"{small.inproc_ms:.0f} → {large.inproc_ms:.0f}" if small.inproc_ms and large.inproc_ms else "—",
            f"{small.built_p50:.0f} → {large.built_p50:.0f}" if small.built_p50 and large.built_p50 else "—",
            f"{built_ratio:.2f}" if built_ratio else "—", f"{built_share:.3f}" if built_share is not None else "—",
            ", ".join(built_failed) or "—",
            f"{small.p50:.0f} → {large.p50:.0f}" if small.p50 and large.p50 else "—",
            f"{large.p95:.0f}" if large.p95 else "—", f"{ratio:.2f}" if ratio else "—",
            f"{large.rps:.2f}" if large.rps else "—",
            f"{large.rps / large.hello_rps:.4f}" if large.rps and large.hello_rps else "—",
            f"{share:.4f}" if share is not None else "—", str(large.n),
            "PASS" if not failed else "**FAIL** " + ", ".join(failed)])
    notes = [f"As built on every request (page cache off), {built_failures} of the page targets above would fail "
             "(the \"fails as built\" column); they are not counted below."]
    bare, portal = run.export.get("bare", {}), run.export.get("portal", {})
    if "seconds" in bare and "seconds" in portal:
        time_ratio = portal["seconds"] / bare["seconds"]
        memory_ok, time_ok = portal["growth_mb"] <= TARGET_EXPORT_MB, time_ratio <= TARGET_EXPORT_RATIO
        failures += (not memory_ok) + (not time_ok)
        notes.append(
            f"Expense lines CSV at {LARGE} (`{EXPORT_PATH}`, in-process test client, fresh process): "
            f"{portal['seconds']:.1f} s, peak memory growth {portal['growth_mb']:.0f} MB "
            f"({portal['lines']:,} lines, {portal['bytes'] / 1e6:.1f} MB). The csv module straight from a "
            f"{'server-side ' if run.backend == 'PostgreSQL' else ''}cursor, same rows and columns: "
            f"{bare['seconds']:.1f} s, {bare['growth_mb']:.0f} MB ({bare['lines']:,} lines). "
            f"Memory ≤ {TARGET_EXPORT_MB} MB: {verdict(memory_ok)}; time ratio {time_ratio:.2f} "
            f"≤ {TARGET_EXPORT_RATIO:g}: {verdict(time_ok)}. (Peak measured as {portal['measure']}.)")
    else:
        failures += 1
        notes.append(f"Expense lines CSV: not measured ({portal.get('error') or bare.get('error') or 'skipped'}).")
    small, large = run.approvals.get(SMALL), run.approvals.get(LARGE)
    if small and large:
        approve_ok = large["p95"] <= TARGET_APPROVE_P95_MS and not large["failures"] and not small["failures"]
        failures += not approve_ok
        notes.append(
            f"Inline approval (the htmx POST from the queue's approval form, its row answered), "
            f"{large['n']} applications at each size on a copy of the database: p50 {small['p50']:.0f} → "
            f"{large['p50']:.0f} ms, p95 {small['p95']:.0f} → {large['p95']:.0f} ms (1k → {LARGE}; "
            f"{small['failures'] + large['failures']} answers not 200). p95 at {LARGE} ≤ "
            f"{TARGET_APPROVE_P95_MS:g} ms: {verdict(approve_ok)}.")
    else:
        failures += 1
        notes.append("Inline approval: not measured.")
    return rows, notes, failures


HEADER = ["page", "KB 1k / 100k", "statements built 1k → 100k (served again)", "built in-process p50 ms 1k → 100k",
          "built p50 ms 1k → 100k", "built p50 ratio", "built ÷ 50-row table", "fails as built",
          "p50 ms 1k → 100k", "p95 ms 100k", "p50 ratio", "req/s 100k", "÷ hello", "÷ 50-row table",
          "requests", "targets"]


def markdown(run: Run, rows: list[list[str]], notes: list[str], failures: int, args: argparse.Namespace) -> str:
    def spread(name: str) -> str:
        rates = [r["rps"] for r in run.baselines[name]]
        return f"median {statistics.median(rates):.0f} req/s (range {min(rates):.0f}–{max(rates):.0f})"

    seeds = []
    for size in (SMALL, LARGE):
        info = run.seeds[size]
        counts = info.get("counts", {})
        what = (f"{counts.get('applications', 0):,} applications, {counts.get('expense_lines', 0):,} expense "
                f"lines, {counts.get('donations', 0):,} donations")
        seeds.append(f"{size}: {what}; " + ("reused" if info["reused"] else f"seeded in {info['seconds']:.0f} s"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    lines = [
        f"## {run.backend}",
        "",
        f"- Run: {dt.datetime.fromtimestamp(run.started).strftime('%Y-%m-%d %H:%M')} "
        f"({(time.time() - run.started) / 60:.0f} min), `{' '.join(args.command)}`",
        f"- Code: {code_version(args.code)}",
        f"- Machine: {os.cpu_count()} cores ({cpu}), load average {args.load:.1f} at the start; "
        f"Python {platform.python_version()}; gunicorn {WORKERS} sync workers, {CONNECTIONS} connections",
        f"- Data: {'; '.join(seeds)} (seed {args.seed})",
        f"- Requests per page and size: at most {args.requests} or {args.max_seconds:g} s, whichever came "
        f"first (baselines: {args.baseline_requests} or {args.baseline_seconds:g} s, just before each page)",
        f"- Baselines (the 50-row table reads the {LARGE} database): hello-world {spread('hello')}, "
        f"50-row table {spread('table')}; each page's ratios use the burst measured just before it",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        *(line for note in notes for line in (note, "")),
        f"Targets failed: {failures}.",
    ]
    return "\n".join(lines)


RESULTS_INTRO = """# Benchmark results: staff pages at 1k and 100k applications

Written by `bench/pages.py` (run by `make bench`, once per backend; each run replaces its own
section). Targets from issue 13, as ratios measured in the same run: req/s at 2 connections ≥ 50 %
of the bare 50-row table's; statements per page ≤ 10 and the same at 1k and 100k; p50(100k) /
p50(1k) ≤ 1.3; exporting every expense line: peak memory growth ≤ 100 MB and time ≤ 2× the csv
module straight from a cursor. Statements and in-process times come from the Flask test client;
req/s, p50 and p95 from gunicorn (2 sync workers) at 2 connections, each page at 1k and 100k
back to back, just after a burst at each baseline (the ratios use that burst). Deep queue pages
that do not exist at 1k are compared with the 1k page at the same point of the history (noted in
the row). "KB" is the size of the page's HTML.

Each page is measured twice: as served (the portal as it runs, its page cache on: a page seen
again before anything changed comes from the cache, `portal/page_cache.py`) and as built (the
same portal with `PORTAL_CACHE_TYPE=NullCache`, every request building the page: what the first
view after a change costs). The targets are counted on the pages as served; the "fails as built"
column says which of them the page would miss if it were built every time.
"""


def write_results(run: Run, section: str) -> None:
    key = run.backend.lower()
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    content = RESULTS.read_text() if RESULTS.exists() else RESULTS_INTRO
    block = f"{start}\n{section}\n{end}"
    if start in content and end in content:
        content = content[:content.index(start)] + block + content[content.index(end) + len(end):]
    else:
        content = content.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(content)


def print_table(rows: list[list[str]], notes: list[str]) -> None:
    widths = [max(len(str(row[i])) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    for row in [HEADER, *rows]:
        print("  ".join(str(cell).replace("**", "").ljust(width) for cell, width in zip(row, widths, strict=True)))
    for note in notes:
        print("\n" + note.replace("**", ""))


# --- Main -----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLite file or PostgreSQL URL the seeded names derive from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--large", choices=("10k", "100k"), default="100k",
                        help="the large size (10k only to try the script quickly)")
    parser.add_argument("--requests", type=int, default=200, help="per page and size, at most")
    parser.add_argument("--max-seconds", type=float, default=45, help="per page and size, at most")
    parser.add_argument("--baseline-requests", type=int, default=1000, help="per burst, before each page")
    parser.add_argument("--baseline-seconds", type=float, default=4, help="per burst, at most")
    parser.add_argument("--repeats", type=int, default=3, help="timed in-process requests per page")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export measurement")
    parser.add_argument("--no-results", action="store_true", help="do not write bench/results.md")
    parser.add_argument("--enforce", action="store_true", help="exit 1 if any target fails")
    parser.add_argument("--code", help="say which code this is in bench/results.md (default: git's commit)")
    parser.add_argument("--probe-export", choices=("portal", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe_export:
        print(json.dumps(probe_export(args.probe_export, args.db)))
        return 0
    args.command = ["python", "bench/pages.py", *sys.argv[1:]]
    args.load = os.getloadavg()[0]
    backend = "SQLite" if make_url(args.db).get_backend_name() == "sqlite" else "PostgreSQL"
    run = Run(backend, args.db, pages=staff_pages(dt.date.today()))
    global LARGE
    LARGE = args.large
    urls = {size: sized_url(args.db, size, args.seed) for size in (SMALL, LARGE)}
    if backend == "PostgreSQL":
        try:
            database_exists(urls[SMALL])
        except Exception as error:  # no server, no rights: say so, like the test runner does
            log(f"PostgreSQL at {args.db} does not answer ({type(error).__name__}): page benchmark skipped.")
            return 1 if args.enforce or os.environ.get("CI") == "true" else 0
    log(f"== {backend}: databases")
    for size in (SMALL, LARGE):
        run.seeds[size] = ensure_seeded(urls[size], size, args.seed)
    pages = {size: queue_pages(urls[size]) for size in (SMALL, LARGE)}
    log(f"== {backend}: statements and in-process time ({pages[SMALL]} and {pages[LARGE]} full queue pages, "
        "all states)")
    in_process(run, urls, pages, args.repeats)
    log(f"== {backend}: under gunicorn")
    serve(run, urls, pages, args)
    if not args.no_export:
        log(f"== {backend} {LARGE}: exporting every expense line")
        export(run, urls[LARGE])
    log(f"== {backend}: inline approval, on a copy of each database")
    approve_round_trips(run, urls)
    rows, notes, failures = evaluate(run)
    log("")
    print_table(rows, notes)
    log(f"\n{backend}: {failures} targets failed{' (not enforced: exit 0)' if not args.enforce else ''}.")
    if not args.no_results:
        write_results(run, markdown(run, rows, notes, failures, args))
        log(f"Wrote {RESULTS.relative_to(REPO)} ({backend} section).")
    return 1 if args.enforce and failures else 0


if __name__ == "__main__":
    sys.exit(main())

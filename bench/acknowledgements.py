"""Benchmark: thanking 500 pending donations in one batch, on both cores against one.

The data (a staff user, 500 donors with one pending GBP gift each) is built once into a
template SQLite database; every run starts from its own copy of it, so both runs do exactly
the same work. The batch runs as the "acknowledge all pending" button runs it:
``acknowledge_pending(by=staff)`` with the default LETTER_WORKERS (one per core), then with
``workers=1``, alternately, ROUNDS times each; the best time of each counts. The one-worker
run is the baseline measured in the same run: it renders every letter one after another in
this process. The speed-up (1-worker time / 2-worker time) is compared with a target, so the
machine's speed cancels out. Other work on the machine does not: each run reports how busy
the other processes kept the cores, and the summary warns when that was significant.

A sequential bare render of a sample of the batch's own letters tells how much of the
one-worker time is rendering: only that part can go faster on more cores (numbering, HTML,
encryption and inserts stay in this process), so it gives the best speed-up two workers
could reach (Amdahl's law).

Each round also runs the batch as the button now does: its POST queues a job and answers, and
a consumer (two worker threads in this process, as ``flask consumer``) writes the letters. The
POST must answer in at most TARGET_POST_SHARE of the batch's time, and the batch (from the POST
until its job is done) take at most TARGET_BACKGROUND times the in-request run's best.

Exits non-zero if the speed-up or the background run is below its target, or a run thanked anyone wrongly (every donor
once, with one letter; references consecutive; nothing left pending). The suite keeps a
twenty-donor batch with the same checks (tests/donors/test_acknowledgements.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import undefer

from portal import create_app
from portal.blueprints.auth.services import hash_password
from portal.blueprints.donors import services
from portal.blueprints.donors.letters import THANKS_KIND
from portal.extensions import db
from portal.letters import letter_kind
from portal.letters.engine import html_to_pdf
from portal.letters.service import letter_html
from portal.models import (
    Acknowledgement,
    AcknowledgementBatch,
    AuditEvent,
    Donation,
    Donor,
    GiftAidDeclaration,
    Job,
    Letter,
    OutboxMessage,
    User,
)
from portal.tasks import consumer_for

DONORS = 500
WORKERS = 2
ROUNDS = 3  # each configuration runs this many times, alternately; the best time counts
SAMPLE = 40  # letters of the batch rendered bare, one after another, to measure the render share
# Two workers can at best halve the rendering (~90% of the one-worker time here, so ~1.8-1.9×),
# not the numbering, HTML, encryption and inserts this process does between chunks while the
# pool waits. Measured on this 2-core virtual machine with no other work running: 1.80× and 1.41×
# (two rounds each), 1.53×, 1.52×, 1.51× and 1.71× (three rounds); round by round 1.10-1.90×, as
# its cores change speed from minute to minute. 1.3 leaves that noise room below the usual ~1.5-1.7× and still fails
# when the letters stop being rendered in parallel (~1.0×; 0.7-1.2× measured with one core free).
TARGET = 1.3
# The button in the background (issue 14): its POST answers in at most 1 % of the batch's time,
# and the batch is no slower than the same batch run in the request; 10 % above it is round-to-
# round noise on this machine (the runs above differ by more), not a slower batch.
TARGET_POST_SHARE = 0.01
TARGET_BACKGROUND = 1.1

EN_NAMES = [("Mr", "John", "Smith"), ("Mrs", "Mary", "Jones"), ("Ms", "Sarah", "Taylor"), ("Dr", "David", "Brown"),
            ("Mr", "James", "Wilson"), ("Mrs", "Susan", "Davies"), ("Ms", "Emily", "Evans")]
RU_NAMES = [("", "Иван", "Петров"), ("", "Анна", "Смирнова"), ("", "Ольга", "Кузнецова"), ("", "Дмитрий", "Соколов"),
            ("", "Мария", "Попова")]
METHODS = ["bank_transfer", "card", "cheque", "online_platform"]


def config(folder: Path, database: Path, keys: list[str]) -> dict[str, Any]:
    return {"INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench" * 10,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "WTF_CSRF_ENABLED": False,
            "FIELD_ENCRYPTION_KEYS": keys,
            "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}}


def build(app) -> dict[str, Any]:
    """Migrate, then a staff user and DONORS donors with one pending gift each. Returns what
    a correct batch must produce."""
    today = dt.date.today()
    with app.app_context():
        upgrade()
        staff = User(email="staff@bench.example.org", name="Emma Clarke", preferred_language="en",
                     password_hash=hash_password("bench-password"))
        staff.set_roles({"staff"})
        donors, donations = [], []
        for n in range(DONORS):
            russian = n % 5 == 0  # 100 donors write in Russian
            title, first, last = (RU_NAMES if russian else EN_NAMES)[n % (5 if russian else 7)]
            donor = Donor(kind="individual", title=title or None, first_name=first, last_name=f"{last} {n}",
                          email=f"donor{n}@bench.example.org", house=str(n % 200 + 1),
                          address="High Street\nLondon", postcode="SW1A 1AA", country="GB",
                          language="ru" if russian else "en",
                          contact_preference="post" if n % 3 == 0 else "email")  # 167 by post
            donor.refresh_search_name()
            if n % 4 == 0:  # 125 with a Gift Aid declaration
                donor.declarations.append(GiftAidDeclaration(made_on=today - dt.timedelta(days=365)))
            donors.append(donor)
            donations.append(Donation(donor=donor, amount=1000 + (n * 137) % 20000, currency="GBP",
                                      received_on=today - dt.timedelta(days=n % 10 + 1),
                                      method=METHODS[n % len(METHODS)], restricted=n % 2 == 0,
                                      campaign="Winter appeal" if n % 7 == 0 else None,
                                      reference=f"BENCH-{n:04d}"))
        db.session.add(staff)
        db.session.add_all(donors)
        db.session.add_all(donations)
        db.session.commit()
        expected = {"staff_id": staff.id,
                    "channels": {"email": sum(d.contact_preference == "email" for d in donors),
                                 "post": sum(d.contact_preference == "post" for d in donors), "none": 0},
                    "russian": sum(d.language == "ru" for d in donors),
                    "gift_aid": sum(bool(d.declarations) for d in donors)}
        db.engine.dispose()
    return expected


def copy_database(template: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (safe whatever the journal mode)."""
    with sqlite3.connect(template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()


def check(report: services.BatchReport, expected: dict[str, Any]) -> list[str]:
    """What is wrong with the batch just run (nothing, if every gift was thanked once)."""
    problems = []
    scalar = db.session.scalar
    acknowledged = Acknowledgement.batch_id == report.batch_id
    if (report.letters, report.donations, report.skipped_donors) != (DONORS, DONORS, 0):
        problems.append(f"report: {report.letters} letters, {report.donations} donations, "
                        f"{report.skipped_donors} skipped (expected {DONORS}, {DONORS}, 0)")
    if report.channels != expected["channels"]:
        problems.append(f"channels {report.channels}, expected {expected['channels']}")
    pending = scalar(select(func.count()).select_from(Donation).where(Donation.acknowledgement_id.is_(None)))
    if pending:
        problems.append(f"{pending} donations still pending")
    counts = db.session.execute(
        select(func.count(), func.count(distinct(Acknowledgement.donor_id)),
               func.count(distinct(Acknowledgement.letter_id))).where(acknowledged)).one()
    if tuple(counts) != (DONORS, DONORS, DONORS):
        problems.append(f"acknowledgements / donors / letters in the batch: {tuple(counts)}, expected {DONORS} each")
    thanked = scalar(select(func.count()).select_from(Donation).join(Acknowledgement).where(acknowledged))
    if thanked != DONORS:
        problems.append(f"{thanked} donations thanked by this batch, expected {DONORS}")
    audits = db.session.execute(select(func.count(), func.count(distinct(AuditEvent.subject_id)))
                                .where(AuditEvent.action == "donation_acknowledged")).one()
    if tuple(audits) != (DONORS, DONORS):
        problems.append(f"'donation_acknowledged' audit entries / donations: {tuple(audits)}, expected {DONORS} each")
    mails = scalar(select(func.count()).select_from(OutboxMessage))
    if mails != expected["channels"]["email"]:
        problems.append(f"{mails} thank-you e-mails queued, expected {expected['channels']['email']}")
    letters = db.session.scalars(select(Letter).join(Acknowledgement, Acknowledgement.letter_id == Letter.id)
                                 .where(acknowledged).options(undefer(Letter.pdf))).all()
    if len({letter.reference for letter in letters}) != DONORS:
        problems.append("letter references are not unique")
    # Every run starts from a database without letters: the batch numbers 1 … DONORS in one year.
    sequences = sorted(letter.sequence for letter in letters)
    if sequences != list(range(1, DONORS + 1)) or len({letter.year for letter in letters}) != 1:
        problems.append(f"letter numbers are not consecutive from 1 to {DONORS} in one year")
    misnumbered = [letter.reference for letter in letters
                   if not letter.reference.endswith(f"-{letter.year}-{letter.sequence:04d}")]
    if misnumbered or len({letter.reference.rsplit("-", 2)[0] for letter in letters}) > 1:
        problems.append(f"references that do not read <prefix>-<year>-<number>: {misnumbered[:3]}")
    every_letter = scalar(select(func.count()).select_from(Letter))
    if every_letter != DONORS:
        problems.append(f"{every_letter} letters in the database, expected {DONORS}: one per donor")
    russian = sum(letter.language == "ru" for letter in letters)
    if russian != expected["russian"]:
        problems.append(f"{russian} letters in Russian, expected {expected['russian']}")
    gift_aid = sum(bool(letter.facts.get("gift_aid")) for letter in letters)
    if gift_aid != expected["gift_aid"]:
        problems.append(f"{gift_aid} letters mention Gift Aid, expected {expected['gift_aid']}")
    broken = [letter.reference for letter in letters
              if not letter.pdf.startswith(b"%PDF") or hashlib.sha256(letter.pdf).hexdigest() != letter.sha256]
    if broken:
        problems.append(f"{len(broken)} letters whose PDF is missing or does not match its hash: {broken[:3]}")
    return problems


def sequential_render(batch_id: int) -> float:
    """Seconds per letter to render SAMPLE of the batch's own letters with WeasyPrint, one
    after another in this process (HTML built beforehand, not timed)."""
    kind = letter_kind(THANKS_KIND)
    letters = db.session.scalars(select(Letter).join(Acknowledgement, Acknowledgement.letter_id == Letter.id)
                                 .where(Acknowledgement.batch_id == batch_id).order_by(Letter.id)).all()
    # The same mix as the batch (post and e-mail, English and Russian, with and without Gift Aid):
    # a fixed random sample, not every n-th letter, which would follow the data's own every-n-th pattern.
    pages = [letter_html(kind, letter.facts, reference=letter.reference, token=letter.token,
                         issued_on=letter.issued_at.date(), language=letter.language)
             for letter in random.Random(SAMPLE).sample(letters, min(SAMPLE, len(letters)))]
    html_to_pdf(pages[0])  # warm: fonts and caches are loaded once per process
    started = time.perf_counter()
    for html in pages:
        html_to_pdf(html)
    return (time.perf_counter() - started) / len(pages)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers, once shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def machine_busy_seconds() -> float | None:
    """CPU time every process on the machine has used since boot (Linux), to tell how much
    other work ran beside a measurement."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal: guest is in user already
    return busy / os.sysconf("SC_CLK_TCK")


def run(folder: Path, template: Path, keys: list[str], expected: dict[str, Any], workers: int | None,
        label: str) -> dict[str, Any]:
    """Acknowledge every pending gift on a fresh copy of the template; time and check it."""
    database = folder / f"run-{len(list(folder.glob('run-*.db')))}.db"
    copy_database(template, database)
    app = create_app(config(folder, database, keys))
    result: dict[str, Any] = {}
    with app.app_context():
        staff = db.session.get(User, expected["staff_id"])
        assert db.session.scalar(select(func.count()).select_from(Donation)
                                 .where(Donation.acknowledgement_id.is_(None))) == DONORS
        # Warm this process's WeasyPrint (fonts, caches), as in a server that has rendered
        # before: the one-worker run then pays no start-up, the pool still pays its own.
        html_to_pdf('<html lang="en"><title>warm</title><p>warm</p></html>')
        print(f"  {label}: acknowledging {DONORS} pending donations…", flush=True)
        started, cpu, machine = time.perf_counter(), cpu_seconds(), machine_busy_seconds()
        report = services.acknowledge_pending(by=staff, workers=workers)
        result["seconds"] = time.perf_counter() - started
        used = cpu_seconds() - cpu
        result["cores"] = used / result["seconds"]
        after = machine_busy_seconds()
        result["others"] = (max(0.0, after - machine - used) / result["seconds"]
                            if machine is not None and after is not None else 0.0)
        result["problems"] = check(report, expected)
        result["batch_id"] = report.batch_id
        if workers is None:  # the button's run: also the printable post PDF of its letters
            batch = db.session.get(AcknowledgementBatch, report.batch_id)
            started = time.perf_counter()
            merged = services.merged_pdf(services.post_letters(batch))
            result["merge_seconds"] = time.perf_counter() - started
            result["merge_pages"] = len(PdfReader(io.BytesIO(merged)).pages)
            result["merge_bytes"] = len(merged)
        else:  # the baseline: also how much of it was rendering
            result["render_per_letter"] = sequential_render(report.batch_id)
        db.engine.dispose()
    status = "OK" if not result["problems"] else "WRONG: " + "; ".join(result["problems"])
    print(f"  {label}: {result['seconds']:.1f} s, this bench kept {result['cores']:.2f} cores busy on average, "
          f"other processes {result['others']:.2f}; check {status}", flush=True)
    return result


def background_run(folder: Path, template: Path, keys: list[str], expected: dict[str, Any], label: str,
                   in_request_seconds: float) -> dict[str, Any]:
    """The button as it works now: the POST queues a job and answers; a consumer (two worker
    threads in this process, as ``flask consumer`` runs them) writes the letters. Times the POST
    and the batch (from the POST until the job is done), on a fresh copy of the template."""
    database = folder / f"run-{len(list(folder.glob('run-*.db')))}.db"
    copy_database(template, database)
    app = create_app(config(folder, database, keys) | {"TASK_QUEUE_URL": f"sqlite:///{database}.tasks"})
    consumer = consumer_for(app)
    consumer.start()
    result: dict[str, Any] = {}
    try:
        with app.app_context():
            html_to_pdf('<html lang="en"><title>warm</title><p>warm</p></html>')
            client = app.test_client()
            signed_in = client.post("/login", data={"email": "staff@bench.example.org", "password": "bench-password"})
            assert signed_in.status_code == 303, signed_in.status_code
            print(f"  {label}: POST /donors/acknowledge-all, a consumer writes the letters…", flush=True)
            started = time.perf_counter()
            answer = client.post("/donors/acknowledge-all")
            result["post_seconds"] = time.perf_counter() - started
            assert answer.status_code == 303, answer.status_code
            pause = threading.Event()
            while db.session.scalar(select(Job.state)) not in ("done", "failed"):
                db.session.rollback()
                pause.wait(0.02)
            result["seconds"] = time.perf_counter() - started
            job = db.session.scalars(select(Job)).one()
            if job.state != "done":
                result["problems"] = [f"the job failed: {job.error}"]
            else:
                batch = db.session.scalars(select(AcknowledgementBatch)
                                           .where(AcknowledgementBatch.job_id == job.id)).one()
                report = services.BatchReport(batch_id=batch.id, letters=job.result["letters"],
                                              donations=job.result["donations"],
                                              channels={c: job.result[c] for c in ("email", "post", "none")})
                result["problems"] = check(report, expected)
            db.engine.dispose()
    finally:
        consumer.stop(graceful=True)
    status = "OK" if not result["problems"] else "WRONG: " + "; ".join(result["problems"])
    print(f"  {label}: the POST answered in {result['post_seconds'] * 1000:.0f} ms, the batch took "
          f"{result['seconds']:.1f} s ({result['seconds'] / in_request_seconds:.2f}× the in-request run "
          f"of the same round); check {status}", flush=True)
    return result


def main() -> int:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        keys = [Fernet.generate_key().decode()]
        template = folder / "template.db"
        app = create_app(config(folder, template, keys))
        workers = app.config["LETTER_WORKERS"]
        if workers != WORKERS:
            print(f"note: LETTER_WORKERS is {workers} on this machine ({cores} cores), not {WORKERS}: "
                  f"the default run uses {workers}")
        started = time.perf_counter()
        expected = build(app)
        print(f"data: {DONORS} donors, one pending GBP gift each ({expected['channels']['post']} by post, "
              f"{expected['russian']} in Russian, {expected['gift_aid']} with Gift Aid), built in "
              f"{time.perf_counter() - started:.1f} s; each run starts from a copy of it", flush=True)
        runs: dict[int | None, list[dict[str, Any]]] = {None: [], 1: []}
        background: list[dict[str, Any]] = []
        for round_number in range(1, ROUNDS + 1):  # interleaved, so a busy spell hits both alike
            for count, label in ((None, f"{workers} workers (default)"), (1, "1 worker")):
                runs[count].append(run(folder, template, keys, expected, count, f"round {round_number}, {label}"))
            background.append(background_run(folder, template, keys, expected,
                                             f"round {round_number}, in the background",
                                             runs[None][-1]["seconds"]))

    def best(key: str, results: list[dict[str, Any]]) -> float:
        return min(result[key] for result in results)

    parallel_time, single_time = best("seconds", runs[None]), best("seconds", runs[1])
    speed_up = single_time / parallel_time
    # Each one-worker run's own render sample against its own time: the machine's speed drifts between runs.
    share = statistics.median(result["render_per_letter"] * DONORS / result["seconds"] for result in runs[1])
    render = statistics.median(result["render_per_letter"] for result in runs[1]) * DONORS
    correct = not any(result["problems"] for results in [*runs.values(), background] for result in results)
    rounds = ", ".join(f"{one['seconds'] / two['seconds']:.2f}×" for two, one in zip(runs[None], runs[1], strict=True))
    print()
    print(f"speed-up round by round: {rounds}; the best times of each are compared below")
    print(f"baseline (1 worker: every letter rendered one after another in this process): {single_time:.1f} s "
          f"for {DONORS}, {single_time / DONORS * 1000:.0f} ms a letter (best of {ROUNDS})")
    if share < 1:
        bound = 1 / ((1 - share) + share / workers)
        print(f"  of which WeasyPrint rendering (bare render of {SAMPLE} of its letters, in sequence, after each run; "
              f"median): {render / DONORS * 1000:.0f} ms a letter, {share:.0%} of the time; the rest (numbering, HTML, "
              f"encryption, inserts, audit, e-mails) stays in this process, so {workers} workers can reach "
              f"at best {bound:.2f}×")
    else:
        print(f"  bare rendering measured {render / DONORS * 1000:.0f} ms a letter, as much as the whole run took: "
              f"too noisy to tell the render share")
    others = max(result["others"] for results in runs.values() for result in results)
    if others > 0.25:
        print(f"warning: other processes kept up to {others:.2f} of the {cores} cores busy during a run: "
              f"the times are longer and the speed-up lower than on an idle machine; re-run it when idle")
    print(f"merged post PDF of the batch (services.merged_pdf(services.post_letters(batch))): "
          f"{best('merge_seconds', runs[None]):.2f} s ({expected['channels']['post']} letters, "
          f"{runs[None][0]['merge_pages']} pages, {runs[None][0]['merge_bytes'] / 1024 / 1024:.1f} MB)")
    print(f"correctness after each run ({DONORS} letters with consecutive references, nothing pending, "
          f"each gift thanked once): "
          f"{'OK' if correct else 'FAILED'}")
    verdict = "OK" if speed_up >= TARGET and correct else "BELOW TARGET" if correct else "INCORRECT"
    print(f"acknowledge {DONORS} pending donations: {workers} workers {parallel_time:.1f} s "
          f"({DONORS / parallel_time:.1f} letters/s), 1 worker {single_time:.1f} s "
          f"({DONORS / single_time:.1f} letters/s), speed-up {speed_up:.2f}×; target ≥ {TARGET}× -> {verdict}")
    background_time = best("seconds", background)
    post_share = max(result["post_seconds"] / result["seconds"] for result in background)
    slower = background_time / parallel_time
    background_ok = post_share <= TARGET_POST_SHARE and slower <= TARGET_BACKGROUND and correct
    print(f"in the background (the button's POST queues a job, a consumer writes the letters): the POST answered "
          f"in at most {post_share:.2%} of its batch's time (target ≤ {TARGET_POST_SHARE:.0%}); "
          f"the batch {background_time:.1f} s, "
          f"{slower:.2f}× the in-request run with {workers} workers (best of {ROUNDS} each; target ≤ "
          f"{TARGET_BACKGROUND}) -> {'OK' if background_ok else 'BELOW TARGET' if correct else 'INCORRECT'}")
    return 0 if speed_up >= TARGET and correct and background_ok else 1


if __name__ == "__main__":
    sys.exit(main())

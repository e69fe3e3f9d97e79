"""``/healthz`` for a load balancer: 200 when the database answers at the migrations' head, a
task consumer was seen lately, the uploads' disk has room and the last backup is recent; 503
with the failing check otherwise. The portal and its consumer run as real processes here: a
stopped consumer and a database that is gone turn the answer to 503."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from portal import backup, health
from portal.extensions import db
from portal.models import Heartbeat, User
from tests.fixtures.concurrency import at_once
from tests.fixtures.redis_server import free_port
from tests.fixtures.tasks import ROOT, portal_environment, wait_until
from tests.run_suites import drop_postgres_database, recreate_postgres_database


def test_without_a_consumer_or_a_backup_it_says_which_check_fails(app, client, tmp_path):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "fail"
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert not body["checks"]["consumer"]["ok"] and not body["checks"]["backup"]["ok"]

    health.beat()
    backup.create_backup(tmp_path / "backups")
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["backup"]["age_hours"] < 1
    assert response.headers["Cache-Control"].startswith("private, no-store")


def test_it_holds_no_personal_data_and_needs_no_sign_in(app, client, make_user):
    make_user(roles=["doctor"], name="Dr Anna Sokolova", email="anna@example.org", passport_number="751234567")
    text = client.get("/healthz").get_data(as_text=True)
    for private in ("Sokolova", "anna@example.org", "751234567", app.config["SQLALCHEMY_DATABASE_URI"],
                    app.instance_path):
        assert private not in text
    assert set(json.loads(text)) == {"status", "checks"}


def test_backups_turned_off_are_reported_not_required(app, client):
    app.config["BACKUP_EVERY_HOURS"] = 0
    health.beat()
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["checks"]["backup"] == {"ok": True, "age_hours": None, "scheduled": False}


def test_a_full_disk_fails(app, client):
    health.beat()
    app.config.update(BACKUP_EVERY_HOURS=0, HEALTH_MIN_FREE_MB=10 ** 12)
    response = client.get("/healthz")
    assert response.status_code == 503 and not response.get_json()["checks"]["disk"]["ok"]


def test_a_heartbeat_is_not_a_change_to_data(app):
    """The page cache's number rises with every change to data; a heartbeat every minute must
    not empty the staff's cached pages."""
    from portal.page_cache import generation

    before = generation()
    health.beat()
    health.beat()
    assert generation() == before
    assert db.session.scalar(select(Heartbeat.name)) == "consumer"


class Portal:
    """The portal served by gunicorn on a loopback port, with a given environment."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", "1", "--bind", f"127.0.0.1:{self.port}",
             "portal:create_app()"], cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)

    def health(self) -> tuple[int, dict[str, Any]] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=10) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as answer:
            return answer.code, json.load(answer)
        except OSError:
            return None  # not listening yet

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def test_real_processes_a_stopped_consumer_and_a_lost_database_answer_503(app, database_url, tmp_path):
    """The portal (gunicorn) and its consumer as processes of their own, on their own database."""
    db.session.remove()
    db.engine.dispose()  # the copy below must be of a database nobody is writing to
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        own_url = recreate_postgres_database(url.set(database=f"{url.database}_health")
                                             .render_as_string(hide_password=False), template=database_url)
    else:
        own = tmp_path / "health.db"
        shutil.copyfile(make_url(database_url).database, own)
        own_url = f"sqlite:///{own}"
    settings = {"BACKUP_EVERY_HOURS": 0, "HEALTH_MIN_FREE_MB": 1, "TASK_PERIODIC_SECONDS": 1}
    environment = {**portal_environment(app, **settings), "DATABASE_URL": own_url}
    portal = Portal(environment, tmp_path / "portal.log")
    ours = subprocess.Popen([sys.executable, "-m", "flask", "--app", "portal", "consumer"], cwd=ROOT,
                            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status, body = wait_until(lambda: (answer := portal.health()) and answer[0] == 200 and answer,
                                  what="/healthz answering 200 with the consumer running", timeout=60)
        assert body["checks"]["consumer"]["seen_seconds_ago"] < health_limit(settings)

        ours.kill()  # the consumer is gone: its heartbeat ages
        ours.wait(timeout=30)
        status, body = wait_until(lambda: (answer := portal.health()) and answer[0] == 503 and answer,
                                  what="/healthz answering 503 once the consumer stopped", timeout=60)
        assert not body["checks"]["consumer"]["ok"] and body["checks"]["database"]["ok"]

        if own_url.startswith("postgresql"):
            drop_postgres_database(own_url)
        else:
            own.unlink()
        status, body = wait_until(lambda: (answer := portal.health()) and answer[0] == 503 and answer,
                                  what="/healthz answering 503 once the database is gone", timeout=60)
        assert not (body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"])
    finally:
        if ours.poll() is None:
            ours.kill()
            ours.wait()
        portal.stop()
        if own_url.startswith("postgresql"):
            drop_postgres_database(own_url)


def health_limit(settings: dict[str, Any]) -> float:
    return 2 * float(settings["TASK_PERIODIC_SECONDS"]) + 5


def test_the_admin_dashboard_shows_the_last_backup(app, client, login, make_user, tmp_path):
    admin = make_user(roles=["admin"])
    login(admin)
    page = client.get("/").get_data(as_text=True)
    assert "No backup has been taken yet" in page
    backup.create_backup(tmp_path / "backups")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Last backup finished \d+ (second|minute)s? ago\.", page), page
    doctor_page = app.test_client()
    doctor = make_user(roles=["doctor"])
    doctor_page.post("/login", data={"email": doctor.email, "password": "correct horse battery"})
    assert "Last backup" not in doctor_page.get("/").get_data(as_text=True)
    assert db.session.scalar(select(User.id).where(User.id == admin.id))


def test_consumers_beating_at_once_for_the_first_time_all_succeed(app):
    """Several consumers start together: each one's first heartbeat finds no row."""
    def beat() -> None:
        with app.app_context():
            health.beat()

    for _round in range(5):
        db.session.execute(Heartbeat.__table__.delete())
        db.session.commit()
        at_once([beat] * 6)  # raises the first error any of them met
        assert db.session.scalar(select(Heartbeat.name)) == "consumer"

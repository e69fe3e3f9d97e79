"""Thanking every pending donor is a job on the task queue: the button answers at once with a
progress bar, a consumer writes the letters, and a consumer killed half-way (SIGKILL, a real
process) or a second consumer taking over leaves nobody thanked twice and nothing lost."""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Acknowledgement, AcknowledgementBatch, AuditEvent, Donation, Donor, Job, Letter
from tests.fixtures.concurrency import at_once
from tests.fixtures.factories import many_donors
from tests.fixtures.tasks import wait_until


def job_now() -> Job:
    db.session.expire_all()
    return db.session.scalars(select(Job)).one()


def assert_everyone_thanked_once(donors: list[Donor]) -> None:
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Donation)
                             .where(Donation.acknowledgement_id.is_(None))) == 0
    per_donor = Counter(db.session.scalars(select(Acknowledgement.donor_id)))
    assert per_donor == Counter({donor.id: 1 for donor in donors})
    sequences = sorted(db.session.scalars(select(Letter.sequence)))
    assert sequences == list(range(sequences[0], sequences[0] + len(donors)))  # no number lost or used twice


def test_the_button_answers_at_once_and_the_page_shows_progress_then_the_letters(client, login, staff,
                                                                                run_queued):
    donors = many_donors(6)
    login(staff)
    response = client.post("/donors/acknowledge-all")
    assert response.status_code == 303
    batch = db.session.scalars(select(AcknowledgementBatch)).one()
    assert response.headers["Location"] == f"/donors/batches/{batch.id}"
    job = job_now()
    assert (job.state, job.total, job.done, job.started_by_id) == ("queued", 6, 0, staff.id)
    assert db.session.scalar(select(func.count()).select_from(Acknowledgement)) == 0  # nothing done in the request

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<progress max="6" value="0"' in page and 'hx-trigger="every 2s"' in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page  # without JavaScript
    assert "0 of 6 donors thanked." in page
    fragment = client.get(response.headers["Location"], headers={"HX-Request": "true", "HX-Target": "batch-body"})
    assert "<html" not in fragment.get_data(as_text=True) and "<progress" in fragment.get_data(as_text=True)

    assert run_queued() >= 1
    job = job_now()
    assert (job.state, job.done, job.running_key) == ("done", 6, None)
    assert job.result == {"letters": 6, "donations": 6, "email": 2, "post": 2, "none": 2}
    assert_everyone_thanked_once(donors)
    done = client.get(response.headers["Location"], headers={"HX-Request": "true", "HX-Target": "batch-body"})
    html = done.get_data(as_text=True)
    assert "<progress" not in html and "hx-trigger" not in html  # the polling stops here
    assert "6 letters issued for 6 gifts: 2 by e-mail, 2 by post, 2 kept on file." in html
    assert "Download 2 letters to post (one PDF)" in html
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "jobs")
                                      .order_by(AuditEvent.id)))
    assert actions == ["job_queued", "job_started", "job_finished"]


def test_a_second_start_while_one_runs_joins_it_even_at_the_same_moment(app, signed_in_clients, run_queued):
    many_donors(4)
    people = signed_in_clients(2)
    answers = at_once([lambda c=c, t=t: c.post("/donors/acknowledge-all", csrf=False, data={"csrf_token": t})
                       for c, t in people])
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    assert db.session.scalar(select(func.count()).select_from(AcknowledgementBatch)) == 1
    client, token = people[0]
    again = client.post("/donors/acknowledge-all", csrf=False, data={"csrf_token": token})
    assert again.headers["Location"] == answers[0].headers["Location"]  # still queued: joined
    run_queued()
    assert job_now().state == "done"
    assert client.post("/donors/acknowledge-all", csrf=False, data={"csrf_token": token},
                       follow_redirects=True).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1  # nothing pending: no new job


def test_a_failed_batch_says_why_and_someone_else_resumes_it(app, client, login, staff, make_user, run_queued):
    donors = many_donors(5)
    login(staff)
    batch_url = client.post("/donors/acknowledge-all").headers["Location"]
    staff.active = False  # left the charity before the batch ran
    db.session.commit()
    run_queued()
    job = job_now()
    assert job.state == "failed" and job.running_key is None
    assert "no longer has an active account" in job.error

    colleague = make_user(roles=["staff"], name="Maria Ivanova")
    other = app.test_client()
    other.post("/login", data={"email": colleague.email, "password": "correct horse battery"})
    page = other.get(batch_url).get_data(as_text=True)
    assert "The batch stopped before the end." in page and "no longer has an active account" in page
    assert "<progress" not in page and "Resume the batch" in page
    response = other.post(f"{batch_url}/resume")
    assert response.status_code == 303 and response.headers["Location"] == batch_url
    assert job_now().state == "queued"
    run_queued()
    job = job_now()
    assert job.state == "done" and job.started_by_id == colleague.id
    assert_everyone_thanked_once(donors)
    assert set(db.session.scalars(select(Letter.issued_by_id))) == {colleague.id}
    assert other.post(f"{batch_url}/resume").status_code == 409  # done: nothing to resume


def test_a_consumer_killed_mid_batch_is_replaced_and_nobody_is_thanked_twice(app, client, login, staff,
                                                                            consumer_process):
    donors = many_donors(60)
    login(staff)
    first = consumer_process(THANKS_CHUNK=4, LETTER_WORKERS=1)
    client.post("/donors/acknowledge-all")
    wait_until(lambda: 8 <= job_now().done < 40, what="the first chunks", timeout=120)
    first.kill()
    stopped = job_now()
    assert stopped.state == "running" and stopped.done < 60
    thanked_then = db.session.scalar(select(func.count()).select_from(Acknowledgement))
    assert thanked_then < 60

    second = consumer_process(THANKS_CHUNK=4, LETTER_WORKERS=1)
    job = wait_until(lambda: (found := job_now()).state == "done" and found, what="the batch to finish",
                     timeout=180)
    assert job.done == job.total == 60, second.output()
    assert job.result["letters"] == 60
    assert_everyone_thanked_once(donors)
    batch = db.session.scalars(select(AcknowledgementBatch)).one()
    assert batch.finished_at is not None


def test_with_redis_two_consumers_share_the_work_and_one_takes_over_from_the_other(
        app, make_app, staff, redis_url, consumer_process):
    queue = {"TASK_QUEUE_URL": redis_url, "TASK_QUEUE_NAME": f"portal-test-{uuid.uuid4().hex[:8]}"}
    app.config.update(queue)
    from portal.tasks import init_tasks

    init_tasks(app)  # this test's portal now queues on Redis
    donors = many_donors(40)
    consumers = [consumer_process(THANKS_CHUNK=4, LETTER_WORKERS=1, **queue) for _ in range(2)]
    browser = app.test_client()
    browser.post("/login", data={"email": staff.email, "password": "correct horse battery"})
    assert browser.post("/donors/acknowledge-all").status_code == 303
    running = wait_until(lambda: (found := job_now()).done >= 8 and found, what="progress", timeout=120)
    worker_pid = int(re.search(r":(\d+)$", running.worker).group(1))
    doing, other = (consumers if consumers[0].pid == worker_pid else consumers[::-1])
    assert doing.pid == worker_pid
    doing.kill()
    job = wait_until(lambda: (found := job_now()).state == "done" and found, what="the other consumer",
                     timeout=180)
    assert int(job.worker.rsplit(":", 1)[1]) == other.pid, other.output()
    assert_everyone_thanked_once(donors)


@pytest.mark.parametrize("config_overrides", [{"TASK_QUEUE_URL": "immediate"}])
def test_in_immediate_mode_the_job_runs_as_it_is_queued(client, login, staff, config_overrides):
    donors = many_donors(3)
    login(staff)
    client.post("/donors/acknowledge-all")
    assert job_now().state == "done"
    assert_everyone_thanked_once(donors)

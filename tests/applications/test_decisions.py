"""Staff decide inline: approve with amounts, request changes, decline, cancel; the
state machine refuses what it does not allow; two deciders cannot both win."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from portal.blueprints.applications import services
from portal.extensions import db
from portal.models import Application, ApplicationComment, OutboxMessage

QUEUE = "/applications/review?status=submitted&sort=oldest"


def decide(client, application, action, htmx=False, version=None, **fields):
    prefix = f"a{application.id}"
    data = {f"{prefix}-version": str(version if version is not None else application.version),
            f"{prefix}-next": QUEUE}
    data.update({f"{prefix}-{k}": v for k, v in fields.items()})
    post = client.htmx_post if htmx else client.post
    return post(f"/applications/{application.id}/{action}", data=data)


def test_approve_inline_with_htmx_and_adjusted_amounts(client, login, staff, make_user, make_application, rates):
    doctor = make_user(roles=["doctor"], preferred_language="ru")
    application = make_application(doctor=doctor)
    login(staff)
    queue = client.get(QUEUE).get_data(as_text=True)
    assert f'id="application-{application.id}"' in queue
    # The row's decisions load when opened: no form in the queue itself, a link without htmx.
    assert f'name="a{application.id}-version"' not in queue
    assert f'href="/applications/{application.id}#decision"' in queue
    assert f'hx-get="/applications/{application.id}/decision/approve"' in queue
    approve_form = client.htmx_get(f"/applications/{application.id}/decision/approve").get_data(as_text=True)
    assert "<html" not in approve_form and 'hx-target="closest tr"' in approve_form
    assert 'value="650"' in approve_form or 'value="650.00"' in approve_form  # prefilled with the request
    assert f'name="a{application.id}-next" type="hidden" value="/applications/review"' in approve_form

    response = decide(client, application, "approve", htmx=True, **{
        "approved-registration-amount": "600", "approved-registration-currency": "EUR",
        "approved-travel-amount": "400", "approved-travel-currency": "EUR"})
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert "<html" not in row and row.strip().startswith(f'<tr id="application-{application.id}"')
    assert "approved" in row and "Application approved." in row
    application = db.session.get(Application, application.id)
    assert application.status == "approved" and application.decided_by_id == staff.id
    assert {(line.category, line.approved_amount, line.approved_currency) for line in application.budget_lines} == {
        ("registration", 60000, "EUR"), ("travel", 40000, "EUR")}
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert mail.recipient == doctor.email and mail.language == "ru"
    assert "600,00" in mail.body_text  # the approved amounts, written the Russian way


def test_a_decision_form_loads_only_for_a_decision_open_now_and_never_for_ones_own(
        client, login, staff, make_user, make_application):
    application = make_application()
    login(staff)
    assert client.htmx_get(f"/applications/{application.id}/decision/decline").status_code == 200
    assert client.htmx_get(f"/applications/{application.id}/decision/cancel").status_code == 409  # not approved
    assert client.htmx_get(f"/applications/{application.id}/decision/anything").status_code == 409
    assert client.htmx_get("/applications/999999/decision/approve").status_code == 404
    own = make_application(doctor=staff)
    assert client.htmx_get(f"/applications/{own.id}/decision/approve").status_code == 403


def test_the_same_decisions_work_without_javascript(client, login, staff, make_application):
    first, second, third = make_application(), make_application(), make_application()
    login(staff)
    response = decide(client, first, "approve", **{"approved-registration-amount": "650",
                                                   "approved-registration-currency": "EUR",
                                                   "approved-travel-amount": "400",
                                                   "approved-travel-currency": "EUR"})
    assert response.status_code == 303 and response.headers["Location"] == QUEUE
    response = decide(client, second, "request-changes", comment="Please add the acceptance letter.")
    assert response.status_code == 303 and response.headers["Location"] == QUEUE
    response = decide(client, third, "decline", reason="The budget for this year is spent.")
    assert response.status_code == 303
    assert [db.session.get(Application, a.id).status for a in (first, second, third)] == [
        "approved", "changes_requested", "declined"]
    page = client.get(QUEUE, follow_redirects=True).get_data(as_text=True)
    assert "Application declined." in page


def test_request_changes_needs_a_comment_which_the_doctor_sees(client, login, staff, make_user, make_application):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor)
    login(staff)
    response = decide(client, application, "request-changes", htmx=True, comment="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Say what needs to change." in html and "<html" not in html
    assert db.session.get(Application, application.id).status == "submitted"
    response = decide(client, application, "request-changes", comment="")
    assert response.status_code == 422 and "Say what needs to change." in response.get_data(as_text=True)

    decide(client, application, "request-changes", comment="Please attach the programme.")
    client.post("/logout")
    client.post("/login", data={"email": doctor.email, "password": "correct horse battery"})
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Please attach the programme." in page and "changes requested" in page


def test_decline_needs_a_reason(client, login, staff, make_application):
    application = make_application()
    login(staff)
    assert decide(client, application, "decline", htmx=True, reason=" ").status_code == 422
    assert decide(client, application, "decline", htmx=True, reason="Out of scope.").status_code == 200
    assert db.session.get(Application, application.id).status == "declined"


def test_cancelling_releases_the_committed_amounts(client, login, staff, make_application, rates):
    application = make_application()
    login(staff)
    decide(client, application, "approve", **{"approved-registration-amount": "650",
                                              "approved-registration-currency": "EUR",
                                              "approved-travel-amount": "400",
                                              "approved-travel-currency": "EUR"})
    from portal.money import rates_on

    assert services.committed_in_base(rates_on()) == 89250  # €1,050 at 0.85
    application = db.session.get(Application, application.id)
    assert decide(client, application, "cancel", reason="").status_code == 422
    assert decide(client, application, "cancel", reason="The conference was called off.").status_code == 303
    assert db.session.get(Application, application.id).status == "cancelled"
    assert services.committed_in_base(rates_on()) == 0


def test_two_staff_deciding_at_once_exactly_one_wins(app, client, login, staff, make_user, make_application):
    application = make_application()
    other_staff = make_user(roles=["staff"], name="Oliver Grant")
    other = app.test_client()
    other.post("/login", data={"email": other_staff.email, "password": "correct horse battery"})
    version_seen_by_both = application.version

    login(staff)
    assert decide(client, application, "decline", reason="No budget.", version=version_seen_by_both).status_code == 303
    response = decide(other, application, "approve", version=version_seen_by_both, **{
        "approved-registration-amount": "650", "approved-registration-currency": "EUR"})
    assert response.status_code == 409
    assert "already decided by Emma Clarke" in response.get_data(as_text=True)
    response = decide(other, application, "approve", htmx=True, version=version_seen_by_both, **{
        "approved-registration-amount": "650", "approved-registration-currency": "EUR"})
    assert response.status_code == 409
    row = response.get_data(as_text=True)
    assert "already decided by Emma Clarke" in row and "declined" in row and "<html" not in row
    assert db.session.get(Application, application.id).status == "declined"


def test_a_concurrent_write_between_read_and_commit_is_caught(app, make_user, make_application):
    application = make_application()
    staff_a, staff_b = make_user(roles=["staff"], name="A"), make_user(roles=["staff"], name="B")
    version = application.version
    # Another process decides after we loaded the row but before we commit.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE funded_items SET status = 'declined', version = version + 1 WHERE id = :id"),
                     {"id": application.id})
        conn.execute(text("UPDATE applications SET decided_by_id = :by WHERE id = :id"),
                     {"id": application.id, "by": staff_b.id})
    with pytest.raises(services.DecisionConflict, match="already decided by B"):
        services.request_changes(application, "Please add a CV.", by=staff_a, version=version)
    assert db.session.get(Application, application.id).status == "declined"
    assert db.session.scalars(select(ApplicationComment)).all() == []


LEGAL = {
    ("draft", "submit"), ("changes_requested", "submit"),
    ("draft", "withdraw"), ("submitted", "withdraw"), ("changes_requested", "withdraw"),
    ("submitted", "approve"), ("submitted", "request-changes"), ("submitted", "decline"),
    ("approved", "cancel"),
}
STATES = ["draft", "submitted", "changes_requested", "approved", "declined", "withdrawn", "cancelled", "completed"]
DOCTOR_ACTIONS = {"submit": "submitted", "withdraw": "withdrawn"}
STAFF_ACTIONS = {"approve": "approved", "request-changes": "changes_requested", "decline": "declined",
                 "cancel": "cancelled"}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", [*DOCTOR_ACTIONS, *STAFF_ACTIONS])
def test_every_transition_and_every_illegal_one(client, login, make_user, make_application, state, action):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status=state)
    if action in DOCTOR_ACTIONS:
        login(doctor)
        response = client.post(f"/applications/{application.id}/{action}", data={"confirm": "yes"})
        expected = DOCTOR_ACTIONS[action]
    else:
        login(make_user(roles=["staff"]))
        fields = {"comment": "Please change.", "reason": "A reason.", "approved-registration-amount": "1",
                  "approved-registration-currency": "EUR"}
        response = decide(client, application, action, **fields)
        expected = STAFF_ACTIONS[action]
    after = db.session.get(Application, application.id)
    if (state, action) in LEGAL:
        assert response.status_code == 303, (state, action)
        assert after.status == expected
    elif state == "draft" and action in STAFF_ACTIONS:
        assert response.status_code == 404  # a draft is the doctor's alone
        assert after.status == state
    else:
        assert response.status_code == 409, (state, action)
        assert after.status == state
        assert "no longer possible" in response.get_data(as_text=True)


def test_comments_and_internal_notes(client, login, staff, make_user, make_application):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor)
    login(staff)
    client.post(f"/applications/{application.id}/comments", data={"body": "Budget looks high; check.", "internal": "y"})
    client.post(f"/applications/{application.id}/comments", data={"body": "Could you share the abstract?"})
    staff_view = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Budget looks high; check." in staff_view and "Could you share the abstract?" in staff_view
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert "Could you share the abstract?" in mail.body_text  # only the visible comment is e-mailed
    client.post("/logout")
    client.post("/login", data={"email": doctor.email, "password": "correct horse battery"})
    doctor_view = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Could you share the abstract?" in doctor_view
    assert "Budget looks high; check." not in doctor_view
    client.post(f"/applications/{application.id}/comments", data={"body": "Sent.", "internal": "y"})
    assert not db.session.scalars(select(ApplicationComment).where(ApplicationComment.body == "Sent.")).one().internal

"""Nobody decides, confirms or pays anything they benefit from, whatever roles they hold;
and planning a visit never hands out a role: only an administrator does, on the user's
page, and the user's history says who did it and what the roles were before and after."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.accounts import invite
from portal.blueprints.applications import services as applications
from portal.blueprints.donors import services as donors
from portal.blueprints.expenses import services as expenses
from portal.blueprints.expert_visits import services as visits
from portal.extensions import db
from portal.models import (
    Application,
    AuditEvent,
    Donation,
    DonationAllocation,
    Donor,
    ExpenseLine,
    ExpertVisit,
    OutboxMessage,
    User,
)

OWN_APPLICATION = "This is your own application: another member of staff must decide it."
OWN_VISIT = "You are the expert on this visit, so another member of staff must do this."
PLAN_FOR_SELF = "You cannot plan a visit for yourself: another member of staff must plan it."
NEEDS_EXPERT_ROLE = ("already has an account, without the expert role. An administrator must give that account "
                     "the expert role first, on its page under Users.")
AMOUNTS = {"registration": (65000, "EUR"), "travel": (40000, "EUR")}


@pytest.fixture(autouse=True)
def request_context(app: Flask) -> Iterator[None]:
    """Services write e-mails with links in them."""
    with app.test_request_context():
        yield


@pytest.fixture
def doctor_and_staff(make_user):
    """A doctor who also works on the programme's staff."""
    return make_user(roles=["doctor", "staff"], name="Irina Smirnova")


@pytest.fixture
def clinic(make_clinic):
    return make_clinic(name="Moscow Children's Clinic", city="Moscow")


def _status(application: Application) -> str:
    db.session.expire_all()
    return db.session.get(Application, application.id).status


def _decision(application: Application, **fields: str) -> dict[str, str]:
    prefix = f"a{application.id}"
    return {f"{prefix}-version": str(application.version), f"{prefix}-next": "/applications/review",
            **{f"{prefix}-{name}": value for name, value in fields.items()}}


APPROVE_FIELDS = {"approved-registration-amount": "650", "approved-registration-currency": "EUR",
                  "approved-travel-amount": "400", "approved-travel-currency": "EUR"}


# Applications -----------------------------------------------------------------------------

def test_a_doctor_who_is_staff_cannot_decide_their_own_application_in_the_services(doctor_and_staff,
                                                                                    make_application):
    application = make_application(doctor=doctor_and_staff)
    decisions = [
        lambda: applications.approve(application, AMOUNTS, by=doctor_and_staff, version=application.version),
        lambda: applications.request_changes(application, "Add the programme.", by=doctor_and_staff,
                                             version=application.version),
        lambda: applications.decline(application, "Out of scope.", by=doctor_and_staff,
                                     version=application.version),
    ]
    for decide in decisions:
        with pytest.raises(applications.IllegalTransition) as refused:
            decide()
        assert str(refused.value.message) == OWN_APPLICATION
        assert _status(application) == "submitted"
    assert all(line.approved_amount is None for line in db.session.get(Application, application.id).budget_lines)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_type == "funded_items", AuditEvent.subject_id == application.id,
        AuditEvent.action.like("application_%"))) == 0


def test_nor_cancel_it_or_decide_on_its_report(client, login, doctor_and_staff, staff, make_application,
                                               make_conference):
    past = make_conference(start_date=dt.date.today() - dt.timedelta(days=10),
                           end_date=dt.date.today() - dt.timedelta(days=7))
    application = make_application(doctor=doctor_and_staff, conference=past)
    applications.approve(application, AMOUNTS, by=staff, version=application.version)
    login(doctor_and_staff)
    sent = client.post(f"/applications/{application.id}/report", data={
        "learned": "CAR-T", "shared_by": ["talk"], "shared_on": dt.date.today().isoformat(),
        "colleagues_reached": "12", "certificate": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "certificate.pdf")})
    assert sent.status_code == 303
    refused = client.post(f"/applications/{application.id}/report/accept",
                          data={f"a{application.id}-version": str(application.version)})
    assert refused.status_code == 409 and OWN_APPLICATION in refused.get_data(as_text=True)
    application = db.session.get(Application, application.id)
    for decide in (lambda: applications.accept_report(application, by=doctor_and_staff, version=None),
                   lambda: applications.return_report(application, "Say more.", by=doctor_and_staff),
                   lambda: applications.cancel(application, "No longer needed.", by=doctor_and_staff,
                                               version=None)):
        with pytest.raises(applications.IllegalTransition):
            decide()
        db.session.rollback()
        assert _status(application) == "approved"
        assert db.session.get(Application, application.id).report.status == "submitted"
    applications.accept_report(application, by=staff, version=None)  # anyone else may
    assert _status(application) == "completed"


def test_the_approve_route_refuses_their_own_application_with_a_message(client, login, doctor_and_staff,
                                                                        make_application):
    application = make_application(doctor=doctor_and_staff)
    login(doctor_and_staff)

    row = client.htmx_post(f"/applications/{application.id}/approve", data=_decision(application, **APPROVE_FIELDS))
    assert row.status_code == 409
    assert OWN_APPLICATION in row.get_data(as_text=True) and "<html" not in row.get_data(as_text=True)
    page = client.post(f"/applications/{application.id}/decline", data=_decision(application, reason="No."))
    assert page.status_code == 409 and OWN_APPLICATION in page.get_data(as_text=True)
    assert _status(application) == "submitted"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    # Their own page does not offer the decision at all.
    detail = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Approve these amounts" not in detail and "Decline the application" not in detail


def test_another_member_of_staff_decides_it(client, login, doctor_and_staff, staff, make_application):
    application = make_application(doctor=doctor_and_staff)
    login(staff)
    assert "Approve these amounts" in client.get(f"/applications/{application.id}").get_data(as_text=True)
    response = client.post(f"/applications/{application.id}/approve", data=_decision(application, **APPROVE_FIELDS))
    assert response.status_code == 303
    assert _status(application) == "approved"


# Expert visits ----------------------------------------------------------------------------

def _visit_form(clinic, **overrides: str) -> dict[str, str]:
    return {"expert_id": "0", "new_expert_name": "", "new_expert_email": "", "host_clinic_id": str(clinic.id),
            "arrival_on": "2027-03-01", "departure_on": "2027-03-05", "purpose": "Master classes",
            "purpose_ru": "", "budget-travel-amount": "900", "budget-travel-currency": "EUR", **overrides}


def _visits() -> int:
    return db.session.scalar(select(func.count()).select_from(ExpertVisit))


def _planned_for(expert: User, by: User, clinic) -> ExpertVisit:
    return visits.create_visit({"host_clinic_id": clinic.id, "arrival_on": dt.date(2027, 3, 1),
                                "departure_on": dt.date(2027, 3, 5), "purpose": "Master classes",
                                "purpose_ru": None}, {"travel": (90000, "EUR")}, expert=expert, new_expert=None,
                               by=by)


def test_staff_cannot_plan_a_visit_for_themselves(client, login, make_user, clinic):
    expert_and_staff = make_user(roles=["expert", "staff"], name="Prof. Maria Rossi")
    with pytest.raises(visits.VisitError) as refused:
        _planned_for(expert_and_staff, expert_and_staff, clinic)
    assert str(refused.value.message) == PLAN_FOR_SELF

    login(expert_and_staff)
    chosen = client.post("/visits/new", data=_visit_form(clinic, expert_id=str(expert_and_staff.id)))
    assert chosen.status_code == 422 and PLAN_FOR_SELF in chosen.get_data(as_text=True)
    typed = client.post("/visits/new", data=_visit_form(clinic, new_expert_name="Maria Rossi",
                                                         new_expert_email=expert_and_staff.email.upper()))
    assert typed.status_code == 422 and PLAN_FOR_SELF in typed.get_data(as_text=True)
    assert _visits() == 0


def test_the_expert_on_a_visit_cannot_confirm_complete_cancel_or_record_it(client, login, make_user, staff, clinic):
    expert_and_staff = make_user(roles=["expert", "staff"], name="Prof. Maria Rossi")
    visit = _planned_for(expert_and_staff, staff, clinic)
    login(expert_and_staff)

    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "Confirm the visit" not in page and "Cancel the visit" not in page and "Edit the visit" not in page
    for action in ("confirm", "cancel"):
        response = client.post(f"/visits/{visit.id}/{action}", data={"version": str(visit.version)})
        assert response.status_code == 409 and OWN_VISIT in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ExpertVisit, visit.id).status == "planned"
    with pytest.raises(visits.VisitError, match="another member of staff"):
        visits.update_visit(visit, {"purpose": "Longer master classes"}, {"travel": (900000, "EUR")},
                            by=expert_and_staff, version=None)

    visits.move(visit, "confirm", by=staff, version=None)
    with pytest.raises(visits.VisitError, match="another member of staff"):
        visits.record_outcomes(visit, {"patients_consulted": 40}, by=expert_and_staff)
    with pytest.raises(visits.VisitError, match="another member of staff"):
        visits.move(visit, "complete", by=expert_and_staff, version=None)
    db.session.expire_all()
    visit = db.session.get(ExpertVisit, visit.id)
    assert (visit.status, visit.patients_consulted) == ("confirmed", None)


def test_planning_for_an_account_that_is_not_an_experts_is_refused_and_grants_nothing(client, login, make_user,
                                                                                     staff, clinic):
    doctor = make_user(roles=["doctor"], name="Anna Petrova", email="anna.petrova@example.org")
    login(staff)
    response = client.post("/visits/new", data=_visit_form(clinic, new_expert_name="Anna Petrova",
                                                             new_expert_email="Anna.Petrova@example.org"))
    assert response.status_code == 422
    assert f"anna.petrova@example.org {NEEDS_EXPERT_ROLE}" in response.get_data(as_text=True)
    with pytest.raises(visits.VisitError):
        _planned_for(doctor, staff, clinic)

    db.session.expire_all()
    assert db.session.get(User, doctor.id).roles == {"doctor"}
    assert _visits() == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_type == "users", AuditEvent.subject_id == doctor.id)) == 0


def test_inviting_an_existing_account_never_adds_a_role(make_user, staff):
    doctor = make_user(roles=["doctor"])
    assert invite("Someone", doctor.email, "expert", by=staff).id == doctor.id
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, doctor.id).roles == {"doctor"}

    newcomer = invite("Prof. Maria Rossi", "rossi@example.org", "expert", by=staff)
    db.session.commit()
    assert newcomer.roles == {"expert"}
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_type == "users", AuditEvent.subject_id == newcomer.id)).all() == ["account_invited"]


def test_an_admin_gives_the_expert_role_on_the_users_page_with_an_entry_in_its_history(app, client, login,
                                                                                      make_user, staff, clinic):
    admin = make_user(roles=["admin"], name="Alice Admin")
    doctor = make_user(roles=["doctor"], name="Anna Petrova")
    login(admin)
    response = client.post(f"/admin/users/{doctor.id}", data={"roles": ["doctor", "expert"]})
    assert response.status_code == 303

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "users",
                                                        AuditEvent.subject_id == doctor.id)).one()
    assert (event.action, event.actor_id) == ("roles_changed", admin.id)
    assert event.details == {"added": ["expert"], "removed": [], "before": ["doctor"], "after": ["doctor", "expert"]}
    assert "Roles changed" in client.get(f"/admin/users/{doctor.id}").get_data(as_text=True)

    # Now the account is an expert's, staff can plan its visit.
    planner = app.test_client()
    planner.post("/login", data={"email": staff.email, "password": "correct horse battery"})
    planned = planner.post("/visits/new", data=_visit_form(clinic, expert_id=str(doctor.id)))
    assert planned.status_code == 303
    assert db.session.scalars(select(ExpertVisit)).one().beneficiary_id == doctor.id


# Money: claims, direct costs, allocations ---------------------------------------------------------

def _own_approved_application(make_application, beneficiary: User) -> Application:
    application = make_application(doctor=beneficiary, status="approved", lines={"travel": (40000, "GBP")})
    for line in application.budget_lines:
        line.approved_amount, line.approved_currency = line.requested_amount, line.requested_currency
    db.session.commit()
    return application


def _submitted_line(item: Application) -> ExpenseLine:
    claimant = item.beneficiary
    claim = expenses.open_claim(item, by=claimant)
    line = expenses.add_line(claim, {"category": "travel", "spent_on": dt.date.today() - dt.timedelta(days=3),
                                     "description": "Train", "amount": 5000, "currency": "GBP"},
                             FileStorage(io.BytesIO(b"%PDF-1.4\n% train\n%%EOF\n"), filename="train.pdf"),
                             by=claimant)
    expenses.submit_claim(claim, by=claimant)
    return line


def test_nobody_approves_rejects_or_queries_their_own_claim(client, login, doctor_and_staff, make_application):
    line = _submitted_line(_own_approved_application(make_application, doctor_and_staff))
    for decide in (lambda: expenses.approve_line(line, by=doctor_and_staff, version=line.version),
                   lambda: expenses.reject_line(line, "No receipt.", by=doctor_and_staff, version=line.version),
                   lambda: expenses.query_line(line, "Which train?", by=doctor_and_staff, version=line.version)):
        with pytest.raises(expenses.ExpenseError):
            decide()
    login(doctor_and_staff)
    prefix = f"l{line.id}"
    response = client.htmx_post(f"/expenses/lines/{line.id}/reject", data={
        f"{prefix}-version": str(line.version), f"{prefix}-next": "/expenses/review", f"{prefix}-reason": "No."})
    # 422: htmx swaps the row in place, with the refusal in it.
    assert response.status_code == 422 and "You cannot decide on your own claim." in response.get_data(as_text=True)
    db.session.expire_all()
    line = db.session.get(ExpenseLine, line.id)
    assert (line.status, line.decided_by_id, line.reject_reason, line.question) == ("submitted", None, None, None)


def test_nobody_records_direct_costs_or_allocates_gifts_to_what_is_for_them(doctor_and_staff, make_application):
    item = _own_approved_application(make_application, doctor_and_staff)
    with pytest.raises(expenses.ExpenseError, match="someone else must record its costs"):
        expenses.record_direct_cost(item, {"category": "travel", "spent_on": dt.date.today(), "amount": 5000,
                                           "currency": "GBP", "description": "Flight paid by the charity"},
                                    FileStorage(io.BytesIO(b"%PDF-1.4\n% flight\n%%EOF\n"), filename="flight.pdf"),
                                    by=doctor_and_staff)
    assert db.session.scalar(select(func.count()).select_from(ExpenseLine)) == 0

    donor = Donor(kind="individual", first_name="John", last_name="Donor", country="GB", language="en",
                  contact_preference="post")
    donor.refresh_search_name()
    gift = Donation(donor=donor, amount=10000, currency="GBP", method="bank_transfer", restricted=True,
                    received_on=dt.date.today())
    db.session.add(gift)
    db.session.commit()
    with pytest.raises(donors.DonorError, match="someone else must allocate gifts to it"):
        donors.allocate(gift, item, 5000, by=doctor_and_staff)
    assert db.session.scalar(select(func.count()).select_from(DonationAllocation)) == 0

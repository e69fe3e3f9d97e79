"""Expert visits: planning, onboarding by one-time link, the programme, the bilingual
invitation letter, the calendar file and the status rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from icalendar import Calendar
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.models import ExpertVisit, Letter, OutboxMessage, User, VisitActivity
from tests.fixtures.pdf import flat_text

VISIT = {"expert_id": "0", "new_expert_name": "Prof. Maria Rossi", "new_expert_email": "rossi@example.org",
         "arrival_on": "2027-03-01", "departure_on": "2027-03-05",
         "purpose": "Master classes in paediatric neurosurgery", "purpose_ru": "Мастер-классы по нейрохирургии",
         "budget-travel-amount": "900", "budget-travel-currency": "EUR",
         "budget-visa-amount": "120", "budget-visa-currency": "EUR",
         "budget-accommodation-amount": "", "budget-accommodation-currency": "EUR",
         "budget-other-amount": "", "budget-other-currency": "EUR"}
PASSPORT = {"name": "Prof. Maria Rossi", "preferred_language": "en", "clinic_id": "0",
            "passport_full_name": "MARIA ROSSI", "nationality": "Italian", "passport_number": "YA1234567",
            "passport_expiry": "2031-01-01", "date_of_birth": "1970-05-01"}


@pytest.fixture
def clinic(make_clinic):
    return make_clinic(name="Moscow Children's Clinic", city="Moscow", name_ru="Московская детская клиника",
                       address="1 Example Street, Moscow", address_ru="Москва, ул. Примерная, 1")


def plan(client, clinic, **overrides):
    response = client.post("/visits/new", data={**VISIT, "host_clinic_id": str(clinic.id), **overrides})
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    return db.session.get(ExpertVisit, int(response.headers["Location"].rsplit("/", 1)[1]))


def invitation_link() -> str:
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains("invitation"))).one()
    return re.search(r"http://127\.0\.0\.1:5000(/invitation/\S+)", mail.body_text).group(1)


def add_activity(client, visit, day, title, kind="lecture", title_ru=None):
    return client.htmx_post(f"/visits/{visit.id}/activities", data={
        "kind": kind, "day": day, "title": title, "title_ru": title_ru if title_ru is not None else f"{title} (рус.)",
        "starts_at": "10:00", "ends_at": "12:00"})


def test_staff_plan_a_visit_for_a_new_expert_who_is_invited(app, client, login, staff, clinic):
    login(staff)
    visit = plan(client, clinic)
    expert = User.by_email("rossi@example.org")
    assert visit.status == "planned" and visit.beneficiary_id == expert.id and expert.roles == {"expert"}
    assert expert.password_hash is None
    assert {(line.category, line.approved_amount) for line in visit.budget_lines} == {("travel", 90000),
                                                                                      ("visa", 12000)}
    link = invitation_link()
    expert_browser = app.test_client()
    assert expert_browser.get(link).status_code == 200
    response = expert_browser.post(link, data={"password": "an expert password", "confirm": "an expert password"})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    assert "Prof. Maria Rossi" in expert_browser.get(f"/visits/{visit.id}").get_data(as_text=True)
    # single use
    assert app.test_client().get(link).status_code == 410


class EightDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int((dt.datetime.now(dt.UTC) - dt.timedelta(days=8)).timestamp())


def test_the_invitation_link_expires_after_seven_days(app, client, login, staff, clinic):
    login(staff)
    plan(client, clinic)
    expert = User.by_email("rossi@example.org")
    fresh = invitation_link().rsplit("/", 1)[1]
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="invitation").loads(fresh)
    assert payload["u"] == expert.id
    # the very same link, signed eight days ago
    stale = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="invitation", signer=EightDaysAgo).dumps(payload)
    assert app.test_client().get(f"/invitation/{stale}").status_code == 410
    assert app.test_client().get(f"/invitation/{fresh}").status_code == 200


def test_the_programme_is_added_ordered_and_kept_within_the_dates(client, login, staff, clinic):
    login(staff)
    visit = plan(client, clinic)
    response = add_activity(client, visit, "2027-03-02", "Modern approaches")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="programme"' in html
    add_activity(client, visit, "2027-03-02", "Patient consultations", kind="consultation")
    response = add_activity(client, visit, "2027-04-01", "Too late")
    assert response.status_code == 422 and "must fall within the visit" in response.get_data(as_text=True)
    first, second = db.session.scalars(select(VisitActivity).order_by(VisitActivity.position)).all()
    assert (first.title, second.title) == ("Modern approaches", "Patient consultations")
    client.htmx_post(f"/visits/{visit.id}/activities/{second.id}/up")
    titles = [a.title for a in db.session.get(ExpertVisit, visit.id).activities]
    assert titles == ["Patient consultations", "Modern approaches"]


def test_the_calendar_file_has_one_event_per_activity(client, login, staff, clinic):
    login(staff)
    visit = plan(client, clinic)
    for n, day in enumerate(("2027-03-02", "2027-03-03", "2027-03-04")):
        add_activity(client, visit, day, f"Activity {n}")
    response = client.get(f"/visits/{visit.id}/programme.ics")
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 3
    assert sorted(str(e["summary"]) for e in events) == ["Lecture: Activity 0", "Lecture: Activity 1",
                                                        "Lecture: Activity 2"]
    assert events[0].decoded("dtstart") == dt.datetime(2027, 3, 2, 10, 0)


def test_status_rules(client, login, staff, clinic):
    login(staff)
    visit = plan(client, clinic)

    def go(action, version=None):
        return client.post(f"/visits/{visit.id}/{action}",
                           data={"version": str(version if version is not None else
                                                db.session.get(ExpertVisit, visit.id).version)})

    assert go("complete").status_code == 409  # planned → completed is not allowed
    stale = db.session.get(ExpertVisit, visit.id).version
    assert go("confirm").status_code == 303
    assert go("cancel", version=stale).status_code == 409  # someone else moved it first
    assert go("confirm").status_code == 409
    assert go("complete").status_code == 303
    assert go("cancel").status_code == 409
    assert db.session.get(ExpertVisit, visit.id).status == "completed"
    subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert any("confirmed" in s for s in subjects)


def test_the_bilingual_invitation_letter(app, client, login, staff, clinic, make_user):
    login(staff)
    visit = plan(client, clinic)
    add_activity(client, visit, "2027-03-02", "Modern approaches to brain tumours",
                 title_ru="Современные подходы к опухолям мозга")
    add_activity(client, visit, "2027-03-03", "Joint operation", kind="joint_surgery", title_ru="")
    expert_browser = app.test_client()
    expert_browser.post(invitation_link(), data={"password": "an expert password", "confirm": "an expert password"})
    response = expert_browser.get(f"/letters/invitation/{visit.id}")
    assert response.status_code == 409  # not confirmed, passport missing
    page = expert_browser.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "the visit must be confirmed" in page and "your passport number" in page
    assert "a Russian title for every activity in the programme" in page  # the second activity has none
    joint = db.session.scalars(select(VisitActivity).where(VisitActivity.visit_id == visit.id,
                                                           VisitActivity.kind == "joint_surgery")).one()
    joint.title_ru = "Совместная операция"
    db.session.commit()
    client.post(f"/visits/{visit.id}/confirm", data={"version": str(db.session.get(ExpertVisit, visit.id).version)})
    expert_browser.post("/profile", data=PASSPORT)
    response = expert_browser.post(f"/letters/invitation/{visit.id}/issue", follow_redirects=True)
    assert response.status_code == 200
    text = flat_text(response.data, layout=False)
    response.close()
    for expected in ("Invitation", "Приглашение", "MARIA ROSSI", "YA1234567", "Moscow Children's Clinic",
                     "Московская детская клиника", "1 March 2027", "5 March 2027", "1 марта 2027",
                     "Modern approaches to brain tumours", "Joint surgical operation",
                     "Совместная хирургическая операция", "travel and visa", "проезд и оформление визы",
                     "Современные подходы к опухолям мозга", "Совместная операция", "С уважением"):
        assert expected in text, expected
    # The Russian half holds no English word but names (the people's, the organisation's, the reference)
    russian_half = text.split("Уважаемый(ая)", 1)[1].split("Yours faithfully", 1)[0]  # to the bilingual closing
    english = set(re.findall(r"\b[A-Za-z]{3,}\b", russian_half)) - {"MARIA", "ROSSI", "Gift", "Life"}
    assert english == set(), english

    # the expert of another visit sees neither the visit nor its letter
    other = make_user(roles=["expert"])
    stranger = app.test_client()
    stranger.post("/login", data={"email": other.email, "password": "correct horse battery"})
    assert stranger.get(f"/visits/{visit.id}").status_code == 404
    assert stranger.get(f"/letters/invitation/{visit.id}").status_code == 404
    assert stranger.get(f"/visits/{visit.id}/programme.ics").status_code == 404
    assert "Prof. Maria Rossi" not in stranger.get("/visits/").get_data(as_text=True)

    # a change of dates supersedes the letter
    version = db.session.get(ExpertVisit, visit.id).version
    response = client.post(f"/visits/{visit.id}/edit", data={**VISIT, "host_clinic_id": str(clinic.id),
                                                              "departure_on": "2027-03-06",
                                                              "version": str(version)})
    assert response.status_code == 303
    expert_browser.post(f"/letters/invitation/{visit.id}/issue").close()
    old, new = db.session.scalars(select(Letter).order_by(Letter.id)).all()
    assert (old.status, new.status, old.superseded_by_id) == ("superseded", "valid", new.id)


def test_experts_see_only_their_own_visits(client, login, staff, clinic, make_user):
    login(staff)
    plan(client, clinic)
    client.post("/logout")
    login(make_user(roles=["expert"]))
    assert "Moscow Children" not in client.get("/visits/").get_data(as_text=True)
    assert client.get("/visits/new").status_code == 403


def test_the_visit_screens_speak_russian(client, login, clinic, make_user):
    login(make_user(roles=["staff"], preferred_language="ru"))
    visit = plan(client, clinic)
    add_activity(client, visit, "2027-03-02", "Modern approaches")
    for url in ("/visits/", "/visits/new", f"/visits/{visit.id}", f"/visits/{visit.id}/edit"):
        html = re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True))
        for english in ("Programme", "Host clinic", "Arrival", "Save the visit", "Add an activity", "Expert visits"):
            assert english not in html, (url, english)


def test_the_expert_claims_travel_through_the_expenses_module(app, client, login, staff, clinic, rates):
    login(staff)
    visit = plan(client, clinic)
    client.post(f"/visits/{visit.id}/confirm", data={"version": str(db.session.get(ExpertVisit, visit.id).version)})
    expert_browser = app.test_client()
    expert_browser.post(invitation_link(), data={"password": "an expert password", "confirm": "an expert password"})
    assert "Claim expenses" in expert_browser.get("/expenses/").get_data(as_text=True)
    response = expert_browser.post("/expenses/claims", data={"funded_item_id": visit.id})
    assert response.status_code == 303
    claim_page = expert_browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Travel" in claim_page and "£765.00" in claim_page  # €900 approved, at 0.85


def test_an_activity_is_edited_in_place_and_the_letter_follows(client, login, staff, clinic):
    login(staff)
    visit = plan(client, clinic)
    add_activity(client, visit, "2027-03-02", "Lecture on gliomas")
    activity = db.session.scalars(select(VisitActivity)).one()
    response = client.htmx_post(f"/visits/{visit.id}/activities/{activity.id}", data={
        f"a{activity.id}-kind": "master_class", f"a{activity.id}-day": "2027-03-03",
        f"a{activity.id}-title": "Master class on gliomas", f"a{activity.id}-starts_at": "09:00"})
    assert response.status_code == 200 and "Master class on gliomas" in response.get_data(as_text=True)
    activity = db.session.get(VisitActivity, activity.id)
    assert (activity.kind, activity.day, activity.title) == ("master_class", dt.date(2027, 3, 3),
                                                             "Master class on gliomas")
    response = client.htmx_post(f"/visits/{visit.id}/activities/{activity.id}", data={
        f"a{activity.id}-kind": "lecture", f"a{activity.id}-day": "2027-05-01", f"a{activity.id}-title": "x"})
    assert response.status_code == 422 and "must fall within the visit" in response.get_data(as_text=True)

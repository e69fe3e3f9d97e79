"""After the conference: the doctor reports, staff accept or send back; overdue reports are
reminded by a command, never twice on one day."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Application, ConferenceReport, OutboxMessage

PDF = b"%PDF-1.4\n%%EOF\n"


def report_data(**overrides):
    data = {"learned": "New risk stratification for ALL.", "shared_by": ["talk", "seminar"],
            "shared_on": (dt.date.today() - dt.timedelta(days=2)).isoformat(), "colleagues_reached": "35",
            "certificate": (io.BytesIO(PDF), "certificate.pdf")}
    data.update(overrides)
    return data


@pytest.fixture
def finished(make_user, make_conference, make_application):
    """An approved application whose conference ended last week."""
    doctor = make_user(roles=["doctor"])
    ended = make_conference(name="SIOP Congress", start_date=dt.date.today() - dt.timedelta(days=10),
                            end_date=dt.date.today() - dt.timedelta(days=7))
    return make_application(doctor=doctor, conference=ended, status="approved")


def test_no_report_before_the_conference_is_over(client, login, make_user, make_application):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status="approved")  # conference in 90 days
    login(doctor)
    assert "once the conference is over" in client.get(f"/applications/{application.id}/report").get_data(as_text=True)
    assert client.post(f"/applications/{application.id}/report", data=report_data(),
                       content_type="multipart/form-data").status_code == 409


def test_the_doctor_reports_and_staff_accept_it(client, login, finished, make_user):
    login(finished.doctor)
    response = client.post(f"/applications/{finished.id}/report", data=report_data(),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    report = db.session.scalars(select(ConferenceReport)).one()
    assert report.status == "submitted" and report.shared_by == ["talk", "seminar"] and report.colleagues_reached == 35
    certificate = client.get(f"/applications/{finished.id}/report/certificate")
    assert certificate.data == PDF
    certificate.close()

    client.post("/logout")
    login(make_user(roles=["staff"]))
    page = client.get(f"/applications/{finished.id}/report").get_data(as_text=True)
    assert "New risk stratification for ALL." in page
    version = db.session.get(Application, finished.id).version
    response = client.post(f"/applications/{finished.id}/report/accept", data={f"a{finished.id}-version": str(version)})
    assert response.status_code == 303
    application = db.session.get(Application, finished.id)
    assert application.status == "completed" and application.report.status == "accepted"
    subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert any("accepted" in s for s in subjects)


def test_bad_report_input_keeps_what_was_typed(client, login, finished):
    login(finished.doctor)
    response = client.post(f"/applications/{finished.id}/report", content_type="multipart/form-data",
                           data=report_data(shared_by=[], colleagues_reached="many",
                                            certificate=(io.BytesIO(b"plain text"), "certificate.pdf")))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose at least one way you shared it." in html and "New risk stratification for ALL." in html
    assert db.session.scalars(select(ConferenceReport)).all() == []
    response = client.post(f"/applications/{finished.id}/report", content_type="multipart/form-data",
                           data=report_data(certificate=(io.BytesIO(b"plain text"), "certificate.pdf")))
    assert response.status_code == 422 and "whatever its name says" in response.get_data(as_text=True)
    response = client.post(f"/applications/{finished.id}/report", content_type="multipart/form-data",
                           data=report_data(certificate=(io.BytesIO(b""), "")))
    assert response.status_code == 422 and "certificate of attendance" in response.get_data(as_text=True)


def test_staff_send_the_report_back_and_the_doctor_sends_it_again(client, login, finished, make_user):
    login(finished.doctor)
    client.post(f"/applications/{finished.id}/report", data=report_data(), content_type="multipart/form-data")
    client.post("/logout")
    login(make_user(roles=["staff"]))
    version = {f"a{finished.id}-version": str(db.session.get(Application, finished.id).version)}
    assert client.post(f"/applications/{finished.id}/report/return",
                       data={**version, f"a{finished.id}-comment": ""}).status_code == 422
    assert client.post(f"/applications/{finished.id}/report/return",
                       data={**version, f"a{finished.id}-comment": "How many residents came?"}).status_code == 303
    assert db.session.get(Application, finished.id).report.status == "returned"
    client.post("/logout")
    login(finished.doctor)
    page = client.get(f"/applications/{finished.id}/report").get_data(as_text=True)
    assert "How many residents came?" in page
    response = client.post(f"/applications/{finished.id}/report", content_type="multipart/form-data",
                           data=report_data(colleagues_reached="42", certificate=(io.BytesIO(b""), "")))
    assert response.status_code == 303  # the certificate already uploaded is kept
    report = db.session.get(Application, finished.id).report
    assert report.status == "submitted" and report.colleagues_reached == 42 and report.certificate is not None


def test_overdue_reports_are_reminded_once_a_day(app, runner, finished, make_conference, make_application):
    # Ended a week ago: not overdue yet (two weeks' grace).
    assert "report reminders sent: 0" in runner.invoke(args=["remind"]).output
    in_three_weeks = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    result = runner.invoke(args=["remind", "--today", in_three_weeks])
    assert result.exit_code == 0 and "report reminders sent: 1" in result.output
    assert "report reminders sent: 0" in runner.invoke(args=["remind", "--today", in_three_weeks]).output
    reminders = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains("overdue"))).all()
    assert len(reminders) == 1 and reminders[0].recipient == finished.doctor.email
    assert f"http://127.0.0.1:5000/applications/{finished.id}/report" in reminders[0].body_text
    next_day = (dt.date.today() + dt.timedelta(days=15)).isoformat()
    assert "report reminders sent: 1" in runner.invoke(args=["remind", "--today", next_day]).output


def test_no_reminder_once_the_report_is_in(app, runner, client, login, finished):
    login(finished.doctor)
    client.post(f"/applications/{finished.id}/report", data=report_data(), content_type="multipart/form-data")
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert "report reminders sent: 0" in runner.invoke(args=["remind", "--today", later]).output


def test_the_doctor_records_the_visa_appointment(client, login, make_user, make_application):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status="approved")
    login(doctor)
    response = client.post(f"/applications/{application.id}/visa",
                           data={"appointment_on": "2027-02-10", "outcome": "refused"})
    assert response.status_code == 303
    application = db.session.get(Application, application.id)
    assert application.visa_appointment_on == dt.date(2027, 2, 10) and application.visa_outcome == "refused"
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert "still paid back" in mail.body_text
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert 'value="2027-02-10"' in page


def test_the_visa_cannot_be_recorded_before_approval(client, login, make_user, make_application):
    doctor = make_user(roles=["doctor"])
    application = make_application(doctor=doctor, status="submitted")
    login(doctor)
    assert client.post(f"/applications/{application.id}/visa", data={"outcome": "granted"}).status_code == 409

"""Admins find users, change their roles and deactivate them."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, User
from tests.fixtures.factories import DEFAULT_PASSWORD as PASSWORD


def test_admin_searches_users(client, login, make_user):
    admin = make_user(roles=["admin"], name="Admin Person")
    make_user(name="Dr Boris Orlov", email="boris@example.org")
    make_user(name="Prof. Helen Ward", email="helen@example.org", roles=["expert"])
    login(admin)
    html = client.get("/admin/users?q=orlov").get_data(as_text=True)
    assert "Dr Boris Orlov" in html and "Prof. Helen Ward" not in html
    html = client.get("/admin/users?role=expert").get_data(as_text=True)
    assert "Prof. Helen Ward" in html and "Dr Boris Orlov" not in html
    html = client.get("/admin/users?q=HELEN@").get_data(as_text=True)
    assert "Prof. Helen Ward" in html


def test_the_user_list_is_paginated(client, login, make_user):
    admin = make_user(roles=["admin"], name="AAA Admin")
    for i in range(55):
        make_user(name=f"Doctor {i:02d}")
    login(admin)
    first = client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Doctor 48" in first and "Doctor 54" not in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Doctor 54" in second


def test_admin_changes_roles_with_audit_and_mail(client, login, make_user):
    admin = make_user(roles=["admin"])
    doctor = make_user(roles=["doctor"])
    login(admin)
    response = client.post(f"/admin/users/{doctor.id}", data={"roles": ["doctor", "staff"]})
    assert response.status_code == 303
    assert db.session.get(User, doctor.id).roles == {"doctor", "staff"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "roles_changed")).one()
    assert event.actor_id == admin.id and event.subject_type == "users" and event.subject_id == doctor.id
    assert event.details == {"added": ["staff"], "removed": [], "before": ["doctor"], "after": ["doctor", "staff"]}
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert mail.recipient == doctor.email and "Staff" in mail.body_text
    page = client.get(f"/admin/users/{doctor.id}").get_data(as_text=True)
    assert "roles changed" in page.lower() or "Roles changed" in page


def test_an_admin_cannot_remove_their_own_admin_role(client, login, make_user):
    admin = make_user(roles=["admin"])
    login(admin)
    response = client.post(f"/admin/users/{admin.id}", data={"roles": ["staff"]})
    assert response.status_code == 422
    assert "cannot remove your own administrator role" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).roles == {"admin"}


def test_deactivation_ends_the_users_sessions(app, client, login, make_user):
    admin = make_user(roles=["admin"])
    doctor = make_user()
    doctor_browser = app.test_client()
    doctor_browser.post("/login", data={"email": doctor.email, "password": PASSWORD})
    assert doctor_browser.get("/profile").status_code == 200
    login(admin)
    assert client.post(f"/admin/users/{doctor.id}/deactivate").status_code == 303
    assert doctor_browser.get("/profile").status_code == 302
    assert doctor_browser.post("/login", data={"email": doctor.email, "password": PASSWORD}).status_code == 422
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == doctor.id)).all()
    assert "account_deactivated" in actions
    client.post(f"/admin/users/{doctor.id}/reactivate")
    assert doctor_browser.post("/login", data={"email": doctor.email, "password": PASSWORD}).status_code == 303


def test_an_admin_cannot_deactivate_themselves(client, login, make_user):
    admin = make_user(roles=["admin"])
    login(admin)
    response = client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).active


def test_staff_and_doctors_cannot_manage_users(client, login, make_user):
    target = make_user()
    login(make_user(roles=["staff", "finance"]))
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 403
    assert db.session.get(User, target.id).active

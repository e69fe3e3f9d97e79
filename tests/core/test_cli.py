"""Command-line tasks: demo data, create-user."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.demo import DEMO_LOGINS
from portal.extensions import db
from portal.models import Clinic, Conference, User


def test_demo_loads_a_user_of_every_role_and_prints_working_logins(app, runner):
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    for role, email, password in DEMO_LOGINS:
        assert email in result.output and password in result.output
        user = User.by_email(email)
        assert role in user.roles
    assert db.session.scalar(select(func.count()).select_from(Clinic).where(Clinic.city == "Moscow")) >= 1
    assert db.session.scalar(select(func.count()).select_from(Conference).where(Conference.confirmed)) >= 3
    doctor = User.by_email("doctor@demo.example.org")
    assert doctor.passport_complete and doctor.clinic.city == "Moscow"


def test_demo_logins_work_in_the_browser_flow(app, runner, client):
    runner.invoke(args=["demo"])
    for _role, email, password in DEMO_LOGINS:
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 303, email
        client.post("/logout")


def test_a_second_demo_run_keeps_the_data(app, runner):
    runner.invoke(args=["demo", "--if-empty"])
    users = db.session.scalar(select(func.count()).select_from(User))
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0
    assert "already has data" in result.output and "doctor@demo.example.org" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == users


@pytest.mark.parametrize("config_overrides", [{"ENV": "production", "BASE_URL": "https://portal.example.org",
                                                  "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}])
def test_demo_refuses_to_run_in_production(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_with_roles(app, runner, client):
    result = runner.invoke(args=["create-user", "Finance.Lead@Example.org", "--role", "finance", "--role", "staff",
                                 "--name", "Finance Lead"])
    assert result.exit_code == 0, result.output
    password = result.output.split("Password: ")[1].strip()
    user = User.by_email("finance.lead@example.org")
    assert user.roles == {"finance", "staff"} and user.name == "Finance Lead"
    assert client.post("/login", data={"email": user.email, "password": password}).status_code == 303


def test_create_user_refuses_bad_input(app, runner, make_user):
    make_user(email="taken@example.org")
    assert "already exists" in runner.invoke(args=["create-user", "taken@example.org", "--role", "staff"]).output
    result = runner.invoke(args=["create-user", "not-an-email", "--role", "staff"])
    assert result.exit_code != 0 and "EMAIL" in result.output
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "wizard"])
    assert result.exit_code != 0 and "wizard" in result.output

"""Signing in and out: revoked sessions stay revoked, failures are rate-limited."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.fixtures.factories import DEFAULT_PASSWORD as PASSWORD


def session_cookie(client):
    return client.get_cookie("session").value


def test_sign_in_and_out(client, login, make_user):
    user = make_user(name="Dr Maria Ivanova")
    login(user)
    assert "Dr Maria Ivanova" in client.get("/").get_data(as_text=True)
    response = client.post("/logout")
    assert response.status_code == 303
    assert client.get("/").status_code == 302  # back to the sign-in page


def test_wrong_password_is_a_clear_error_and_keeps_the_address(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "e-mail address or password is not right" in html
    assert f'value="{user.email}"' in html


def test_a_replayed_cookie_after_logout_is_rejected(client, login, make_user):
    login(make_user())
    old = session_cookie(client)
    assert client.get("/profile").status_code == 200
    client.post("/logout")
    client.set_cookie("session", old)  # an attacker kept the cookie
    response = client.get("/profile")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_changing_the_password_signs_out_other_devices(app, client, login, make_user):
    user = make_user()
    other_device = app.test_client()
    assert other_device.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    login(user)
    response = client.post("/password", data={"current": PASSWORD,
                                              "password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 303
    assert client.get("/profile").status_code == 200  # this browser carries on
    assert other_device.get("/profile").status_code == 302  # the other is signed out


def test_a_deactivated_account_cannot_sign_in_and_its_sessions_end(app, client, login, make_user):
    user = make_user()
    login(user)
    user.active = False
    user.revoke_sessions()
    db.session.commit()
    assert client.get("/profile").status_code == 302
    response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 422


def test_the_sixth_failure_in_a_minute_is_refused_with_429(app, make_user):
    victim = make_user()
    bystander = make_user()
    client = app.test_client()
    for _ in range(5):
        assert client.post("/login", data={"email": victim.email, "password": "guess"}).status_code == 422
    response = client.post("/login", data={"email": victim.email, "password": "guess"})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    # even the right password waits out the minute for this account...
    assert client.post("/login", data={"email": victim.email, "password": PASSWORD}).status_code == 429
    # ...but other accounts are unaffected, from the same address
    assert client.post("/login", data={"email": bystander.email, "password": PASSWORD}).status_code == 303


@pytest.mark.parametrize("config_overrides", [{"LOGIN_LIMIT_PER_ADDRESS": "8 per minute"}])
def test_many_accounts_from_one_address_are_limited_too(app):
    client = app.test_client()
    codes = [client.post("/login", data={"email": f"nobody{i}@example.org", "password": "guess"}).status_code
             for i in range(9)]
    assert codes == [422] * 8 + [429]


def test_successful_sign_ins_do_not_count_against_the_limit(app, make_user):
    user = make_user()
    for _ in range(7):
        client = app.test_client()
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 303


def test_the_next_parameter_only_leads_within_the_site(client, make_user):
    user = make_user()
    credentials = {"email": user.email, "password": PASSWORD}
    response = client.post("/login?next=https://evil.example.com/", data=credentials)
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/profile", data=credentials)
    assert response.headers["Location"] == "/profile"


def test_staff_and_finance_land_on_their_inbox_and_everyone_else_on_the_dashboard(app, make_user):
    for roles, landing in ((["staff"], "/inbox"), (["finance"], "/inbox"), (["admin"], "/inbox"),
                           (["doctor"], "/"), (["expert"], "/")):
        user = make_user(roles=roles)
        response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.headers["Location"] == landing, roles


def test_with_the_limits_store_down_sign_in_still_answers_and_still_limits(make_app, make_user):
    from tests.fixtures.redis_server import free_port

    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    user = make_user()
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    client = app.test_client()
    wrong = {"email": user.email, "password": "not the password at all"}
    answers = [client.post("/login", data=wrong).status_code for _ in range(6)]
    assert answers == [422] * 5 + [429]  # counted in this worker's memory meanwhile

"""Links in e-mails and letters never follow the request; hostile ``next``, website and name
values are refused or neutralised; downloads are never cached."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import Clinic, Conference, OutboxMessage, User
from portal.urls import external_url
from portal.weblinks import NotAWebAddress

ATTACKER = "attacker.example"


def outbox() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def links_in(message: OutboxMessage) -> list[str]:
    return re.findall(r"https?://\S+", message.body_text)


# 1. Links built from BASE_URL only -------------------------------------------------------

def test_a_reset_request_with_a_forged_host_is_refused_and_sends_nothing(client, make_user):
    user = make_user()
    response = client.post("/password/forgot", data={"email": user.email}, headers={"Host": ATTACKER})
    assert response.status_code == 400
    assert "does not answer to that address" in response.get_data(as_text=True)
    assert outbox() == []


@pytest.mark.parametrize("config_overrides", [{"TRUSTED_PROXIES": 1}])
def test_a_forged_forwarded_host_behind_the_proxy_is_refused(client, make_user):
    user = make_user()
    response = client.post("/password/forgot", data={"email": user.email},
                           headers={"X-Forwarded-Host": ATTACKER, "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 400
    assert outbox() == []


@pytest.mark.parametrize("config_overrides", [{
    "BASE_URL": "https://portal.charity.example/", "ALLOWED_HOSTS": ["alias.charity.example"]}])
def test_links_in_e_mails_come_from_base_url_even_on_an_allowed_alias(app, client, make_user):
    user = make_user(email="victim@example.org")
    alias = "http://alias.charity.example"
    page = client.get("/password/forgot", base_url=alias).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/password/forgot", base_url=alias, csrf=False,
                           data={"email": user.email, "csrf_token": token})
    assert response.status_code == 303
    [message] = outbox()
    [link] = links_in(message)
    assert link.startswith("https://portal.charity.example/password/reset/")
    # Every other helper-built link (registration, invitation, letters) goes the same way.
    assert external_url("letters.verify", token="abc") == "https://portal.charity.example/verify/abc"
    with app.test_request_context("/", base_url=f"http://{ATTACKER}"):
        assert external_url("auth.login") == "https://portal.charity.example/login"


@pytest.mark.parametrize("config_overrides", [{"BASE_URL": "https://example.org/portal"}])
def test_a_base_url_with_a_path_keeps_it(app):
    assert external_url("auth.login") == "https://example.org/portal/login"


def test_production_refuses_to_start_without_base_url(make_app):
    with pytest.raises(RuntimeError, match="BASE_URL"):
        make_app(ENV="production", SECRET_KEY="a-long-configured-production-secret", BASE_URL=None,
                 RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")


@pytest.mark.parametrize("base_url", ["portal.example.org", "javascript:alert(1)", "https://"])
def test_a_malformed_base_url_is_refused(make_app, base_url):
    with pytest.raises(RuntimeError, match="BASE_URL"):
        make_app(BASE_URL=base_url)


def test_requests_for_the_base_url_host_and_loopback_are_served(client):
    for host in ("127.0.0.1:5000", "localhost", "127.0.0.1"):
        assert client.get("/login", headers={"Host": host}).status_code == 200, host


# 8. next= that is not a plain same-site path ------------------------------------------------

HOSTILE_NEXT = ["/\r\nSet-Cookie: x=1", "/ok\nLocation: https://attacker.example", "/\t/attacker.example",
                "//attacker.example", "https://attacker.example/", "/\\attacker.example", "/\x7f",
                "javascript:alert(1)"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_with_a_hostile_next_signs_in_and_goes_to_the_dashboard(client, make_user, target):
    user = make_user()
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_language_switch_with_a_hostile_next_goes_to_the_dashboard(client, target):
    response = client.post("/language", data={"lang": "ru", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_plain_next_path_is_kept(client, make_user):
    user = make_user()
    response = client.post("/login", query_string={"next": "/profile?tab=passport"},
                           data={"email": user.email, "password": "correct horse battery"})
    assert response.headers["Location"] == "/profile?tab=passport"


# 7. Websites are http(s) only, whatever sets them ------------------------------------------------

HOSTILE_URLS = ["javascript:alert(document.cookie)", "javascript://example.org/%0aalert(1)",
                "data:text/html;base64,PHNjcmlwdD4=", "JAVASCRIPT:alert(1)", "vbscript:msgbox", "//attacker.example",
                "https://exa mple.org", "http://"]


@pytest.mark.parametrize("website", HOSTILE_URLS)
def test_the_model_refuses_a_website_that_is_not_http(app, website):
    with pytest.raises(NotAWebAddress):
        Conference(name="X", city="Y", country="Z", website=website)
    with pytest.raises(NotAWebAddress):
        Clinic(name="X", city="Y", country="Z", website=website)


@pytest.mark.parametrize("website", ["javascript:alert(document.cookie)", "javascript://example.org/%0aalert(1)"])
def test_proposing_a_conference_with_a_script_website_is_a_field_error(client, login, make_user, website):
    login(make_user(roles=["doctor"]))
    response = client.post("/applications/new", data={
        "new_conference_name": "Hostile Congress", "new_conference_city": "Vienna",
        "new_conference_country": "Austria", "new_conference_start": "2027-05-01",
        "new_conference_end": "2027-05-03", "new_conference_website": website,
        "purpose": "Learn.", "expected_benefit": "Teach.", "participation": "attending"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="new_conference_website-error"' in html and "starting with https://" in html
    assert db.session.scalar(select(func.count()).select_from(Conference)) == 0


@pytest.mark.parametrize("website", ["javascript:alert(document.cookie)", "javascript://example.org/%0aalert(1)"])
def test_the_catalogue_form_refuses_a_script_website(client, login, make_user, website):
    login(make_user(roles=["staff"]))
    response = client.post("/conferences", data={"name": "Hostile Congress", "city": "Vienna", "country": "Austria",
                                                 "start_date": "2027-05-01", "end_date": "2027-05-03",
                                                 "website": website})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Conference)) == 0


def test_a_script_website_stored_before_the_rule_is_not_a_link(client, login, make_user, make_conference):
    conference = make_conference(name="Old Congress")
    db.session.execute(text("UPDATE conferences SET website = 'javascript:alert(1)' WHERE id = :id"),
                       {"id": conference.id})
    db.session.commit()
    login(make_user(roles=["staff"]))
    html = client.get("/conferences").get_data(as_text=True)
    assert "Old Congress" in html and "javascript:" not in html


# 9. Downloads are never cached; names on letters carry no invisible characters ---------------------

def test_pages_and_downloads_are_private_and_not_stored(client, login, make_user):
    login(make_user(roles=["staff"]))
    for url in ("/", "/expenses/review.csv", "/conferences"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
    static = client.get("/static/css/portal.css")
    static.close()
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_names_lose_direction_overrides_and_invisible_characters(app, make_user):
    user = make_user(name="Dr \u202eanna\u202c Pe\u200btrova\ufeff", passport_full_name="ANNA\u2066 PETROVA\u2069")
    db.session.refresh(user)
    assert user.name == "Dr anna Petrova"
    assert user.passport_full_name == "ANNA PETROVA"
    assert db.session.scalar(select(User.name).where(User.id == user.id)) == "Dr anna Petrova"


def test_make_run_on_another_port_builds_links_for_that_port_unless_base_url_is_set(make_app):
    served = make_app(BASE_URL=None, DEV_BASE_URL="http://127.0.0.1:5001")
    with served.test_request_context("/"):
        assert external_url("auth.login") == "http://127.0.0.1:5001/login"
    configured = make_app(BASE_URL="https://portal.example.org", DEV_BASE_URL="http://127.0.0.1:5001")
    with configured.test_request_context("/"):
        assert external_url("auth.login") == "https://portal.example.org/login"
    assert make_app(BASE_URL=None).config["BASE_URL"] == "http://127.0.0.1:5000"

"""CSRF, security headers, cookies and the secret key."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.security import CONTENT_SECURITY_POLICY
from tests.conftest import base_config


def test_a_post_without_csrf_token_is_refused_with_400(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"}, csrf=False)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_an_htmx_post_without_csrf_header_is_refused_with_400(client, login, make_user):
    login(make_user(roles=["staff"]))
    response = client.post("/conferences", data={"name": "Sneaky"}, headers={"HX-Request": "true"}, csrf=False)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<html" not in body and "security token" in body


def test_an_htmx_post_with_the_header_token_passes_csrf(client, login, make_user):
    login(make_user(roles=["staff"]))
    token = client.csrf_token()
    response = client.post("/conferences", data={"name": ""}, csrf=False,
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 422  # reached the form validation, not stopped by CSRF


def test_every_page_carries_the_csrf_header_for_htmx(client):
    html = client.get("/login").get_data(as_text=True)
    assert "hx-headers='{\"X-CSRFToken\": \"" in html


def test_security_headers_and_a_csp_without_unsafe_inline(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]


def test_pages_have_no_inline_scripts_or_styles(client, login, make_user):
    login(make_user(roles=["admin", "doctor"]))
    for url in ("/", "/profile", "/conferences", "/clinics", "/admin/users"):
        html = client.get(url).get_data(as_text=True)
        assert "<style" not in html and " style=" not in html, url
        assert "<script>" not in html and " onclick=" not in html, url


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_sends_cookies_only_over_https(database_url, tmp_path):
    app = create_app({**base_config(tmp_path, database_url), "ENV": "production",
                      "SECRET_KEY": "a-long-configured-production-secret"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_a_secret_key_is_generated_into_the_instance_folder_once(database_url, tmp_path):
    config = {**base_config(tmp_path, database_url), "SECRET_KEY": None, "FIELD_ENCRYPTION_KEYS": None}
    first = create_app(config)
    second = create_app(config)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text().strip() == first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 40
    assert (tmp_path / "instance" / "field_encryption.key").exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("key", [None, "", "dev", "change-me"])
def test_production_refuses_to_start_without_a_real_secret_key(database_url, tmp_path, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({**base_config(tmp_path, database_url), "ENV": "production", "SECRET_KEY": key})
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_settings_come_from_the_environment(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ORGANISATION_NAME", "Test Charity")
    monkeypatch.setenv("PORTAL_MAIL_PORT", "2525")
    monkeypatch.setenv("PORTAL_MODULES", "applications, donors")
    config = base_config(tmp_path, database_url)
    del config["SQLALCHEMY_DATABASE_URI"]
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_app(config)
    assert app.config["ORGANISATION_NAME"] == "Test Charity"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MODULES"] == ["applications", "donors"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url


def test_instance_config_file_is_read(database_url, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('ORGANISATION_NAME = "From the instance file"\n')
    config = base_config(tmp_path, database_url)
    app = create_app(config)
    assert app.config["ORGANISATION_NAME"] == "From the instance file"


def test_postgres_urls_use_psycopg3():
    from portal.config import normalise_database_url

    assert normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("postgresql:///portal") == "postgresql+psycopg:///portal"
    assert normalise_database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"

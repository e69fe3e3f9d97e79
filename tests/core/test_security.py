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


def test_production_sends_cookies_only_over_https(make_app):
    app = make_app(ENV="production", SECRET_KEY="a-long-configured-production-secret",
                   BASE_URL="https://portal.example.org", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_a_secret_key_is_generated_into_the_instance_folder_once(make_app, tmp_path):
    first = make_app(SECRET_KEY=None, FIELD_ENCRYPTION_KEYS=None)
    second = make_app(SECRET_KEY=None, FIELD_ENCRYPTION_KEYS=None)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text().strip() == first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 40
    assert (tmp_path / "instance" / "field_encryption.key").exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("key", [None, "", "dev", "change-me"])
def test_production_refuses_to_start_without_a_real_secret_key(make_app, tmp_path, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        make_app(ENV="production", SECRET_KEY=key)
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_settings_come_from_the_environment(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ORGANISATION_NAME", "Test Charity")
    monkeypatch.setenv("PORTAL_MAIL_PORT", "2525")
    monkeypatch.setenv("PORTAL_MODULES", "applications, donors")
    monkeypatch.setenv("DATABASE_URL", database_url)
    config = base_config(tmp_path, database_url)
    del config["SQLALCHEMY_DATABASE_URI"]
    app = create_app(config)  # builds no connection: nothing to close
    assert app.config["ORGANISATION_NAME"] == "Test Charity"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MODULES"] == ["applications", "donors"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url


def test_instance_config_file_is_read(make_app, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('ORGANISATION_NAME = "From the instance file"\n')
    app = make_app()
    assert app.config["ORGANISATION_NAME"] == "From the instance file"


def test_postgres_urls_use_psycopg3():
    from portal.config import normalise_database_url

    assert normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("postgresql:///portal") == "postgresql+psycopg:///portal"
    assert normalise_database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_htmx_is_vendored_pinned_and_configured_for_the_csp(client):
    from pathlib import Path

    import portal

    vendored = list((Path(portal.__file__).parent / "static" / "vendor").glob("htmx-2.0.*.min.js"))
    assert len(vendored) == 1
    html = client.get("/login").get_data(as_text=True)
    assert f'src="/static/vendor/{vendored[0].name}"' in html
    assert '"includeIndicatorStyles": false' in html
    assert "//unpkg" not in html and "cdn" not in html.lower()
    script = client.get(f"/static/vendor/{vendored[0].name}")
    assert script.status_code == 200 and b"htmx" in script.data[:200]
    script.close()


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(make_app):
    app = make_app(TRUSTED_PROXIES=1, LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    with app.app_context():
        client = app.test_client()
        codes = [client.post("/login", data={"email": f"x{i}@example.org", "password": "guess"},
                             headers={"X-Forwarded-For": address}).status_code
                 for i, address in enumerate(["203.0.113.5", "203.0.113.5", "203.0.113.5", "198.51.100.7"])]
    # the third failure from one address is refused; another address behind the same proxy is not
    assert codes == [422, 422, 429, 422]


def test_one_clock_in_the_portals_time_zone(make_app):
    import datetime as dt

    from portal import clock

    app = make_app(TIMEZONE="Pacific/Kiritimati")  # UTC+14: its day starts before anyone else's
    with app.app_context():
        assert clock.now().utcoffset() == dt.timedelta(hours=14)
        assert clock.today() == dt.datetime.now(dt.UTC).astimezone(clock.zone()).date()
        assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Pacific/Kiritimati"

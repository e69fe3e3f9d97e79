"""Friendly error pages in the user's language; the language switch."""

from __future__ import annotations

from portal.extensions import db
from portal.models import User


def test_unknown_url_gets_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "Go to your dashboard" in html and "<nav" in html


def test_404_in_russian_for_a_russian_browser(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="ru">' in html and "Страница не найдена" in html


def test_403_for_a_forbidden_page_in_the_users_language(client, login, make_user):
    login(make_user(roles=["doctor"], preferred_language="ru"))
    response = client.get("/clinics")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "У вас нет доступа к этой странице" in html


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/profile")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_the_language_switch_works_without_an_account(client):
    response = client.post("/language", data={"lang": "ru", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ru">' in html and "Войти" in html
    client.post("/language", data={"lang": "en", "next": "/login"})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_the_language_switch_is_saved_to_the_account(app, client, login, make_user):
    user = make_user()
    login(user)
    client.post("/language", data={"lang": "ru", "next": "/"})
    assert db.session.get(User, user.id).preferred_language == "ru"
    other_browser = app.test_client()
    other_browser.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert "Выйти" in other_browser.get("/").get_data(as_text=True)


def test_the_language_switch_never_redirects_off_site(client):
    response = client.post("/language", data={"lang": "ru", "next": "//evil.example.com/"})
    assert response.headers["Location"] == "/"
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example.com/"})
    assert response.headers["Location"] == "/"


def test_a_wrong_method_is_a_friendly_405(client):
    response = client.get("/language")
    assert response.status_code == 405
    assert "That action is not allowed here" in response.get_data(as_text=True)

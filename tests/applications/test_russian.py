"""Every screen of the module speaks Russian to a Russian-speaking user."""

from __future__ import annotations

import re


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_doctor_and_staff_screens_in_russian(client, login, make_user, make_application, rates):
    doctor = make_user(roles=["doctor"], preferred_language="ru", name="Анна")
    application = make_application(doctor=doctor, status="approved")
    login(doctor)
    assert "Мои заявки" in client.get("/applications/").get_data(as_text=True)
    form = client.get("/applications/new").get_data(as_text=True)
    assert "Новая заявка" in form and "Запрашиваемые суммы" in form
    detail = visible_text(client.get(f"/applications/{application.id}").get_data(as_text=True))
    assert "одобрена" in detail
    for english in ("Budget", "Documents", "Requested", "Approved", "History and comments", "Visa appointment"):
        assert english not in detail, english
    client.post("/logout")
    login(make_user(roles=["staff"], preferred_language="ru"))
    waiting = make_application()  # one row waiting in the queue
    queue = visible_text(client.get("/applications/review").get_data(as_text=True))
    assert "Рассмотрение заявок" in queue and "Одобрить" in queue and "Открыть форму решения" in queue
    for english in ("Approve", "Decline", "Request changes", "Status", "Any clinic", "decision form"):
        assert english not in queue, english
    approve = visible_text(client.htmx_get(f"/applications/{waiting.id}/decision/approve").get_data(as_text=True))
    assert "Одобрить эти суммы" in approve and "Approve" not in approve

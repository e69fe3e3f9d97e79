"""Every page of the core answers each role without a server error."""

import pytest


@pytest.mark.parametrize("role", ["doctor", "expert", "staff", "finance", "admin"])
def test_pages_open_for_each_role(client, login, make_user, make_clinic, make_conference, role):
    clinic = make_clinic()
    conference = make_conference()
    user = make_user(roles=[role])
    login(user)
    for url in ["/", "/profile", "/password", "/conferences", "/conferences/new", "/clinics",
                f"/clinics/{clinic.id}/edit", f"/conferences/{conference.id}/edit", "/admin/users",
                f"/admin/users/{user.id}", "/admin/organisation", "/applications/", "/applications/new",
                "/applications/review", "/expenses/", "/visits/", "/donors/"]:
        response = client.get(url, follow_redirects=True)
        assert response.status_code in (200, 403), (url, response.status_code)

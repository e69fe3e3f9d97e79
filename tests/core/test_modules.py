"""The module system: built-ins can be switched off, outside plugins plug in."""

from __future__ import annotations

import inspect
import sys
import textwrap
from importlib.metadata import distributions

import pytest

from portal import hookspecs
from portal.modules import DEFAULT_MODULES, running_modules


def hookspec_functions():
    return [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("portal_") and hasattr(f, "portal_spec")]


def test_every_hookspec_is_documented():
    specs = hookspec_functions()
    assert {f.__name__ for f in specs} >= {"portal_blueprints", "portal_navigation", "portal_dashboard_cards"}
    for spec in specs:
        assert spec.__doc__ and len(spec.__doc__.strip()) > 40, spec.__name__


def test_all_builtin_modules_run_by_default(app):
    assert set(running_modules()) >= set(DEFAULT_MODULES)


def test_every_endpoint_declares_who_may_open_it(app):
    undeclared = [rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], "access_rules")]
    assert undeclared == []


@pytest.fixture
def staff_user(make_user):
    return make_user(roles=["staff", "doctor", "expert", "finance"])


@pytest.mark.parametrize("config_overrides", [{"MODULES": ["applications", "expenses", "expert_visits"]}])
def test_a_module_switched_off_leaves_no_route_menu_entry_or_card(app, client, login, staff_user):
    login(staff_user)
    assert not any(rule.rule.startswith("/donors") for rule in app.url_map.iter_rules())
    assert "donors" not in app.blueprints
    assert client.get("/donors/").status_code == 404
    dashboard = client.get("/").get_data(as_text=True)
    assert 'href="/donors/"' not in dashboard
    assert "Thank donors" not in dashboard
    # the rest keeps working
    assert 'href="/applications/"' in dashboard
    assert client.get("/applications/").status_code == 200


def test_the_same_user_sees_the_donors_module_when_it_runs(client, login, staff_user):
    login(staff_user)
    dashboard = client.get("/").get_data(as_text=True)
    assert 'href="/donors/"' in dashboard and "Thank donors" in dashboard
    assert client.get("/donors/").status_code == 200


@pytest.mark.parametrize("config_overrides", [{"MODULES": []}])
def test_with_no_modules_the_core_still_serves(client, login, staff_user):
    login(staff_user)
    response = client.get("/")
    assert response.status_code == 200
    for path in ("/applications/", "/expenses/", "/visits/", "/donors/"):
        assert client.get(path).status_code == 404
    assert client.get("/conferences").status_code == 200


def test_an_unknown_module_name_is_refused(make_app):
    with pytest.raises(RuntimeError, match="unknown modules: nonsense"):
        make_app(MODULES=["nonsense"])


PLUGIN_SOURCE = '''
from flask import Blueprint
from portal import hookimpl
from portal.hookspecs import DashboardCard, NavEntry
from portal.permissions import SIGNED_IN, allow

bp = Blueprint("greetings", __name__, url_prefix="/greetings")


@bp.get("/")
@allow(SIGNED_IN)
def index():
    return "Greetings from an outside module"


@hookimpl
def portal_blueprints():
    return [bp]


@hookimpl
def portal_navigation(user):
    return [NavEntry("Greetings", "greetings.index")] if user.is_authenticated else []


@hookimpl
def portal_dashboard_cards(user):
    return [DashboardCard("Greetings card", "Hello from the plugin.", "greetings.index", "Say hello")]
'''


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real installed distribution advertising the ``portal.modules`` entry point."""
    site = tmp_path / "site"
    (site / "portal_greetings").mkdir(parents=True)
    (site / "portal_greetings" / "__init__.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    dist = site / "portal_greetings-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: portal-greetings\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[portal.modules]\ngreetings = portal_greetings\n")
    monkeypatch.syspath_prepend(str(site))
    assert any(d.metadata["Name"] == "portal-greetings" for d in distributions())
    yield
    sys.modules.pop("portal_greetings", None)


def test_an_installed_outside_module_appears(installed_plugin, make_app, make_user):
    app = make_app()
    with app.app_context():
        assert "greetings" in running_modules()
        user = make_user(roles=["doctor"])
        client = app.test_client()
        assert client.post("/login", data={"email": user.email, "password": "correct horse battery"}).status_code == 303
        dashboard = client.get("/").get_data(as_text=True)
        assert 'href="/greetings/"' in dashboard
        assert "Greetings card" in dashboard
        assert client.get("/greetings/").get_data(as_text=True) == "Greetings from an outside module"


def test_an_installed_module_left_out_of_modules_does_not_run(installed_plugin, make_app):
    app = make_app(MODULES=["applications"])
    with app.app_context():
        assert running_modules() == ["applications"]
    assert "greetings" not in app.blueprints


class InlinePlugin:
    """A plugin object registered directly, as a test or an embedding application would."""

    @hookspecs.hookimpl
    def portal_dashboard_cards(self, user):
        return [hookspecs_card()]


def hookspecs_card():
    from portal.hookspecs import DashboardCard

    return DashboardCard("Inline card", "Registered in a test.", "core.dashboard", "Back home")


@pytest.mark.parametrize("config_overrides", [{"EXTRA_MODULES": {"inline": InlinePlugin()}}])
def test_a_plugin_object_registered_in_a_test_appears(client, login, make_user):
    login(make_user(roles=["doctor"]))
    assert "Inline card" in client.get("/").get_data(as_text=True)

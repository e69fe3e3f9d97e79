"""Every public service function says in a docstring what it does (issue 12)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_MODULES = sorted(
    [".".join(path.relative_to(ROOT).with_suffix("").parts)
     for path in (ROOT / "portal" / "blueprints").glob("*/services.py")]
    + ["portal.accounts", "portal.conferences", "portal.mail", "portal.letters.service", "portal.storage",
       "portal.money"]
)


def test_the_service_modules_are_found() -> None:
    assert "portal.blueprints.applications.services" in SERVICE_MODULES


@pytest.mark.parametrize("name", SERVICE_MODULES)
def test_public_service_functions_have_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    missing = sorted(
        attr for attr, function in vars(module).items()
        if inspect.isfunction(function) and not attr.startswith("_")
        and function.__module__ == name  # defined here, not imported
        and not (inspect.getdoc(function) or "").strip()
    )
    assert not missing, f"{name}: public functions without a docstring: {', '.join(missing)}"

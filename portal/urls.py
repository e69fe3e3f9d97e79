"""Absolute URLs the portal sends away from the page: in e-mails, letters and calendar files.

They are built from ``BASE_URL`` alone and never from the request, so a forged ``Host`` or
``X-Forwarded-Host`` header cannot put an attacker's address, with a valid token in it,
into a message. The request's own host is checked against ``TRUSTED_HOSTS`` (derived here
from ``BASE_URL`` and ``ALLOWED_HOSTS``): another host gets 400 before any view runs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

# The development server answers on loopback under either name.
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` at the portal's public address (``BASE_URL``)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path.rstrip("/") or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def check_base_url(config: dict[str, Any]) -> None:
    """Fill in ``BASE_URL`` for development and refuse a missing or malformed one in production."""
    base_url = (config.get("BASE_URL") or "").strip()
    if not base_url:
        if config.get("ENV") == "production":
            raise RuntimeError(
                "BASE_URL is not configured: set PORTAL_BASE_URL (for example https://portal.example.org) "
                "before starting in production mode. Links in e-mails and letters are built from it.")
        # Outside production: the address `make run` serves on (PORTAL_DEV_BASE_URL), else port 5000.
        base_url = (config.get("DEV_BASE_URL") or "").strip() or DEVELOPMENT_BASE_URL
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise RuntimeError(f"BASE_URL must be an http(s) address such as https://portal.example.org, not {base_url!r}")
    config["BASE_URL"] = base_url.rstrip("/")


def trusted_hosts(config: dict[str, Any]) -> list[str]:
    """The host names a request may name: BASE_URL's, ``ALLOWED_HOSTS``, and loopback outside production."""
    hosts = [urlsplit(config["BASE_URL"]).hostname or "", *(config.get("ALLOWED_HOSTS") or [])]
    if config.get("ENV") != "production":
        hosts.extend(LOOPBACK_NAMES)
    return list(dict.fromkeys(host for host in hosts if host))

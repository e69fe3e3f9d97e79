"""The portal's one clock: today's date and the time now where the charity works.

``TIMEZONE`` (Europe/London by default) decides when a day begins: a gift received at
00:30 in London on 6 April belongs to the new tax year even though it is still 5 April in
UTC. Stored timestamps stay in UTC (``models.types.utcnow``); this is for dates people see
and the rules that use them (due reports, future dates refused, the current budget year).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Europe/London"


def zone() -> ZoneInfo:
    """The configured time zone (the default outside an app)."""
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def now() -> dt.datetime:
    """The time now in the portal's time zone (aware)."""
    return dt.datetime.now(zone())


def today() -> dt.date:
    """Today's date in the portal's time zone."""
    return now().date()

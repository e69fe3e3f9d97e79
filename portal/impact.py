"""What the programme has done, from every module's records (``portal_impact``): the trustees'
impact page and the figures a donor's thank-you letter quotes come from here.

The doctors the programme supported before the portal (admins set how many, and since which
year, under *Organisation*) are added to the portal's own in the total; they have no year or
clinic of their own, so the breakdowns show them as one line before the portal's years.
"""

from __future__ import annotations

from typing import Any

from .hookspecs import ImpactFigure
from .letters import organisation
from .modules import plugin_manager

DOCTORS = "applications.doctors"  # the figure the programme's history adds to


def impact_figures() -> list[ImpactFigure]:
    """Every module's figures, in their order."""
    figures = [f for batch in plugin_manager().hook.portal_impact() for f in batch or []]
    return sorted(figures, key=lambda figure: (figure.order, figure.key))


def impact_summary(figures: list[ImpactFigure] | None = None) -> dict[str, Any]:
    """The totals by figure (``DOCTORS`` with those supported before the portal), the years and
    clinics the breakdowns cover, and the history's own line."""
    figures = impact_figures() if figures is None else figures
    settings = organisation()
    totals = {f.key: f.total + (settings.doctors_before_portal if f.key == DOCTORS else 0) for f in figures}
    years = sorted({year for f in figures for year in f.by_year})
    clinics = sorted({clinic for f in figures for clinic in f.by_clinic})
    return {"figures": figures, "totals": totals, "years": years, "clinics": clinics,
            "since": settings.programme_since, "before_portal": settings.doctors_before_portal}


def year_chart(by_year: dict[int, int], years: list[int], width: int = 600, height: int = 180) -> dict[str, Any]:
    """Bar geometry for a server-rendered SVG of one figure by year, with an axis of values."""
    axis, plot = 50, height - 34
    top = max([by_year.get(year, 0) for year in years] + [1])
    slot = width / max(len(years), 1)
    bars = []
    for n, year in enumerate(years):
        value = by_year.get(year, 0)
        h = round(value / top * plot)
        bars.append({"x": round(axis + n * slot + slot * 0.2, 1), "y": height - 20 - h, "w": round(slot * 0.6, 1),
                     "h": h, "year": year, "value": value, "label_x": round(axis + (n + 0.5) * slot, 1)})
    ticks = [{"y": height - 20 - round(plot * share / 4), "value": round(top * share / 4)} for share in range(5)]
    return {"bars": bars, "ticks": ticks, "axis": axis, "width": axis + width, "height": height}

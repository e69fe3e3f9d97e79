"""Importing donations from a bank's or an online platform's CSV export."""

from __future__ import annotations

from flask import render_template

from ...permissions import allow
from . import ROLES
from .views import bp


@bp.get("/imports/new")
@allow(*ROLES)
def import_new() -> str:
    return render_template("donors/import_new.html")

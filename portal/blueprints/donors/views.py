from __future__ import annotations

from flask import Blueprint, render_template

from ...permissions import allow
from . import ROLES

bp = Blueprint("donors", __name__, url_prefix="/donors", template_folder="templates")


@bp.get("/")
@allow(*ROLES)
def index() -> str:
    return render_template("donors/index.html")

from __future__ import annotations

from flask import Blueprint, render_template

from ...permissions import allow
from . import ROLES

bp = Blueprint("expert_visits", __name__, url_prefix="/visits", template_folder="templates")


@bp.get("/")
@allow(*ROLES)
def index() -> str:
    return render_template("expert_visits/index.html")

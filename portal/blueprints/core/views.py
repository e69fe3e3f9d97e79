from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from ...extensions import SUPPORTED_LANGUAGES, db
from ...modules import dashboard_cards_for
from ...page_cache import cached_page
from ...permissions import PUBLIC, SIGNED_IN, allow
from ...responses import safe_next

bp = Blueprint("core", __name__, template_folder="templates")


@bp.get("/")
@allow(SIGNED_IN)
@cached_page
def dashboard() -> str:
    return render_template("core/dashboard.html", cards=dashboard_cards_for(current_user))


@bp.post("/language")
@allow(PUBLIC)
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in SUPPORTED_LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.preferred_language != lang:
            current_user.preferred_language = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next")), code=303)

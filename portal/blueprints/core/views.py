from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from ... import health, letters
from ... import impact as impact_service
from ... import inbox as inbox_service
from ...errors import UserError
from ...extensions import SUPPORTED_LANGUAGES, db, htmx
from ...modules import dashboard_cards_for
from ...page_cache import cached_page
from ...permissions import PUBLIC, SIGNED_IN, allow
from ...responses import INVALID, current_actor, safe_next
from . import history_views, privacy_views

bp = Blueprint("core", __name__, template_folder="templates")
history_views.register(bp)
privacy_views.register(bp)


@bp.get("/healthz")
@allow(PUBLIC)
def healthz() -> Response:
    """For a load balancer or a monitor: 200 when every check passes, 503 otherwise, with each
    check's answer as JSON (no personal data, no sign-in)."""
    body, healthy = health.report()
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    return response


@bp.get("/")
@allow(SIGNED_IN)
@cached_page
def dashboard() -> str:
    return render_template("core/dashboard.html", cards=dashboard_cards_for(current_user))


@bp.get("/inbox")
@allow(*inbox_service.INBOX_ROLES)
@cached_page
def inbox() -> str:
    """Everything that waits for the signed-in person, oldest first; filter by kind or module."""
    kinds = inbox_service.inbox_kinds(current_user)
    kind = request.args.get("kind") or None
    module = request.args.get("module") or None
    if kind and kind not in {k.key for k in kinds} or module and module not in {k.module for k in kinds}:
        kind = module = None  # a filter this person has nothing of: everything
    shown = [k for k in kinds if (not kind or k.key == kind) and (not module or k.module == module)]
    entries = inbox_service.inbox_entries(shown)
    template = "core/_inbox_list.html" if htmx.target == "inbox-list" else "core/inbox.html"
    return render_template(template, kinds=kinds, shown=shown, entries=entries, kind=kind, module=module,
                           modules=sorted({k.module: k.area for k in kinds}.items()),
                           total=sum(k.count for k in kinds), waiting_for=inbox_service.waiting_for)


@bp.post("/inbox/<kind>/<int:item_id>")
@allow(*inbox_service.INBOX_ROLES)
def inbox_act(kind: str, item_id: int) -> Response | tuple[str, int] | str:
    """An inbox item's one-click action: its row answers (htmx), or back to the inbox."""
    back = safe_next(request.form.get("next"), "core.inbox")
    try:
        message = inbox_service.act(current_actor(), kind, item_id, request.form.get("version", type=int))
    except UserError as error:
        if not htmx:
            flash(str(error.message), "error")
            return redirect(back, code=303)
        return render_template("core/_inbox_done.html", message=str(error.message), error=True), INVALID
    if message is None:
        abort(404)
    if not htmx:
        flash(str(message), "success")
        return redirect(back, code=303)
    return render_template("core/_inbox_done.html", message=str(message), error=False)


@bp.get("/impact")
@allow("staff")
@cached_page
def impact() -> str:
    """What the programme has done since it began: for the trustees, printable."""
    summary = impact_service.impact_summary()
    doctors = next((f for f in summary["figures"] if f.key == impact_service.DOCTORS), None)
    chart = impact_service.year_chart(dict(doctors.by_year), summary["years"]) if doctors else None
    return render_template("core/impact.html", chart=chart, doctors=doctors, **summary)


@bp.get("/privacy")
@allow(PUBLIC)
def privacy() -> str:
    """What the portal keeps about people, why, and for how long (from the admins' settings)."""
    return render_template("core/privacy.html", settings=letters.organisation())


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

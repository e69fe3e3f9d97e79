from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from ... import audit
from ...extensions import db
from ...models import ROLES, User, UserRole
from ...permissions import allow
from ...search import matches_any
from ..pages import form_page
from . import services
from .forms import RolesForm

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PER_PAGE = 50


@bp.get("/users")
@allow("admin")
def users() -> str:
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    query = select(User).order_by(User.name, User.id)
    if q:
        query = query.where(matches_any([User.name, User.email], q))
    if role in ROLES:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", page=page, q=q, role=role, roles=ROLES)


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allow("admin")
def user_detail(user_id: int) -> Response | tuple[str, int] | str:
    user = _user_or_404(user_id)
    form = RolesForm()
    if request.method == "GET":
        form.roles.data = sorted(user.roles)
    if form.validate_on_submit():
        try:
            changed = services.set_roles(user, set(form.roles.data or []), by=current_user._get_current_object())
        except services.RefusedChange:
            form.roles.errors.append(_("You cannot remove your own administrator role."))
        else:
            flash(_("Roles saved.") if changed else _("Nothing to change."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id), code=303)
    return form_page("admin/user_detail.html", form, user=user, events=audit.timeline(user))


@bp.post("/users/<int:user_id>/deactivate")
@allow("admin")
def deactivate(user_id: int) -> Response:
    user = _user_or_404(user_id)
    try:
        services.deactivate(user, by=current_user._get_current_object())
    except services.RefusedChange:
        flash(_("You cannot deactivate your own account."), "error")
    else:
        flash(_("%(name)s can no longer sign in.", name=user.name), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/reactivate")
@allow("admin")
def reactivate(user_id: int) -> Response:
    user = _user_or_404(user_id)
    services.reactivate(user, by=current_user._get_current_object())
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id), code=303)

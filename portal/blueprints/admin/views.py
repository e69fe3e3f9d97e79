from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from ... import access_log, audit, letters, storage
from ...extensions import db
from ...models import ROLES, User, UserRole
from ...models.types import utcnow
from ...permissions import allow
from ...responses import current_actor, form_page
from ...search import matches_any
from . import services
from .forms import OrganisationForm, RolesForm

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PER_PAGE = 50
MAX_IMAGE_BYTES = 1024 * 1024


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
            changed = services.set_roles(user, set(form.roles.data or []), by=current_actor())
        except services.RefusedChange:
            form.roles.errors.append(_("You cannot remove your own administrator role."))
        else:
            flash(_("Roles saved.") if changed else _("Nothing to change."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id), code=303)
    return form_page("admin/user_detail.html", form, user=user, events=audit.timeline(user),
                     reads=access_log.reads_of(user), inactive_years=_inactive_years(user))


def _inactive_years(user: User) -> int | None:
    """The settings' years, when the account has not been used for longer than that."""
    years = letters.organisation().inactive_account_years
    last = user.last_login_at or user.created_at
    return years if user.active and last < utcnow() - dt.timedelta(days=365 * years) else None


@bp.post("/users/<int:user_id>/deactivate")
@allow("admin")
def deactivate(user_id: int) -> Response:
    user = _user_or_404(user_id)
    try:
        services.deactivate(user, by=current_actor())
    except services.RefusedChange:
        flash(_("You cannot deactivate your own account."), "error")
    else:
        flash(_("%(name)s can no longer sign in.", name=user.name), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/reactivate")
@allow("admin")
def reactivate(user_id: int) -> Response:
    user = _user_or_404(user_id)
    if user.erased_at is not None:
        flash(_("This account was erased: it cannot sign in again."), "error")
        return redirect(url_for("admin.user_detail", user_id=user.id), code=303)
    services.reactivate(user, by=current_actor())
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id), code=303)


IMAGE_TYPES = ("image/png", "image/jpeg")


def _image(field: Any) -> tuple[bytes, str] | None:
    """The uploaded image's bytes and type, or None when nothing was chosen."""
    upload = request.files.get(field.name)
    if upload is None or not upload.filename:
        return None
    content = upload.read(MAX_IMAGE_BYTES + 1)
    content_type = storage.sniff(content[:16])
    if content_type not in IMAGE_TYPES:
        raise storage.UploadRejected(_l("Upload a PNG or JPEG image."))
    if len(content) > MAX_IMAGE_BYTES:
        raise storage.UploadRejected(_l("The image is larger than 1 MB."))
    return content, content_type


@bp.route("/organisation", methods=["GET", "POST"])
@allow("admin")
def organisation() -> Response | tuple[str, int] | str:
    settings = letters.organisation()
    form = OrganisationForm(obj=settings)
    if form.validate_on_submit():
        images: dict[str, tuple[bytes, str] | None] = {}
        for name in ("logo", "signature"):
            try:
                image = _image(form[name])
            except storage.UploadRejected as exc:
                form[name].errors.append(str(exc.message))
                continue
            if image is not None:
                images[name] = image
            elif form[f"remove_{name}"].data:
                images[name] = None
        if not form.logo.errors and not form.signature.errors:
            values: dict[str, Any] = {name: form[name].data or "" for name in OrganisationForm.TEXT_FIELDS}
            values.update({name: form[name].data for name in OrganisationForm.NUMBER_FIELDS})
            services.update_organisation(settings, values, images, by=current_actor())
            flash(_("Organisation settings saved. New letters use them."), "success")
            return redirect(url_for("admin.organisation"), code=303)
    db.session.commit()  # the settings row may have just been created with its defaults
    return form_page("admin/organisation.html", form, settings=settings, events=audit.timeline(settings))

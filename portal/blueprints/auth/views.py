from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import accounts, audit, bank
from ...extensions import current_language, db, limiter
from ...inbox import INBOX_ROLES
from ...models import Clinic, User
from ...permissions import ANONYMOUS, PUBLIC, SIGNED_IN, allow, has_role
from ...responses import INVALID, current_actor, form_page, safe_next, show_error
from . import services
from .forms import (
    BankDetailsForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)

bp = Blueprint("auth", __name__, template_folder="templates")

def _login_failed(response: Response) -> bool:
    # Only failures count against the limit; a success redirects with 303.
    return response.status_code != 303


def _login_account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


@bp.route("/register", methods=["GET", "POST"])
@allow(ANONYMOUS)
def register() -> Response | tuple[str, int] | str:
    form = RegisterForm()
    if form.validate_on_submit():
        services.start_registration(form.name.data, form.email.data, form.password.data,
                                    language=current_language())
        # The same words whether or not the address has an account (see start_registration).
        flash(_("We have sent a message to %(email)s. Open the link in it to finish creating your account "
                "(if the address already has an account, the message says how to sign in).",
                email=form.email.data.strip().lower()), "info")
        return redirect(url_for("auth.login"), code=303)
    return form_page("auth/register.html", form)


@bp.get("/register/<token>")
@allow(PUBLIC)
def confirm_registration(token: str) -> Response | tuple[str, int]:
    """The e-mailed link: the account is created now, and its owner signed in."""
    user = services.finish_registration(token)
    if user is None:
        return render_template("auth/registration_invalid.html"), 410
    logout_user()
    login_user(user)
    session.pop("lang", None)
    flash(_("Welcome! Your account is ready. Please complete your profile."), "success")
    return redirect(url_for("auth.profile"), code=303)


@bp.route("/login", methods=["GET", "POST"])
@allow(ANONYMOUS)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_login_account_key,
               methods=["POST"], deduct_when=_login_failed, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], key_func=get_remote_address,
               methods=["POST"], deduct_when=_login_failed, scope="login-address")
def login() -> Response | tuple[str, int] | str:
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("The e-mail address or password is not right."))
        else:
            login_user(user, remember=form.remember.data)
            session.pop("lang", None)  # the account's own language takes over
            # Staff and finance land on their inbox: what waits for them.
            landing = "core.inbox" if has_role(user, *INBOX_ROLES) else "core.dashboard"
            return redirect(safe_next(request.args.get("next"), landing), code=303)
    return form_page("auth/login.html", form)


@bp.post("/logout")
@allow(PUBLIC)
def logout() -> Response:
    if current_user.is_authenticated:
        services.sign_out(current_actor())
        logout_user()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
def forgot_password() -> Response | tuple[str, int] | str:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(_("If an account uses that address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("auth.login"), code=303)
    return form_page("auth/forgot_password.html", form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password(token: str) -> Response | tuple[str, int] | str:
    user = accounts.user_for_reset_token(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data, action="password_reset")
        logout_user()
        flash(_("Your password has been changed. Please sign in with the new one."), "success")
        return redirect(url_for("auth.login"), code=303)
    return form_page("auth/reset_password.html", form, token=token)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def accept_invitation(token: str) -> Response | tuple[str, int] | str:
    """An invited expert chooses a password with the e-mailed link (once, within seven days)."""
    user = accounts.user_for_invitation(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data, action="invitation_accepted")
        login_user(user)
        flash(_("Welcome! Please complete your profile: your invitation letter is made from it."), "success")
        return redirect(url_for("auth.profile"), code=303)
    return form_page("auth/accept_invitation.html", form, token=token, user=user)


@bp.route("/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password() -> Response | tuple[str, int] | str:
    form = ChangePasswordForm()
    user = current_actor()
    if form.validate_on_submit():
        if not services.password_matches(user, form.current.data):
            form.current.errors.append(_("That is not your current password."))
        else:
            services.set_password(user, form.password.data, action="password_changed")
            login_user(user)  # this browser keeps going with the new session token
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(url_for("auth.profile"), code=303)
    return form_page("auth/change_password.html", form)


def _profile_form(user: User, *, from_request: bool = True) -> ProfileForm:
    form = ProfileForm(obj=user) if from_request else ProfileForm(obj=user, formdata=None)
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.name)).all()
    form.clinic_id.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(c.id, f"{c.name} ({c.city})") for c in clinics]
    return form


def _profile_page(user: User, form: ProfileForm, bank_form: BankDetailsForm | None = None,
                  status: int = 200) -> tuple[str, int]:
    bank_form = bank_form or BankDetailsForm(formdata=None, data={"bank_holder": user.bank_holder or user.name})
    return render_template("auth/profile.html", form=form, user=user, events=audit.timeline(user),
                           bank_form=bank_form, bank=bank.masked(bank.details_of(user))), status


@bp.route("/profile", methods=["GET", "POST"])
@allow(SIGNED_IN)
def profile() -> Response | tuple[str, int] | str:
    user = current_actor()
    form = _profile_form(user)
    if request.method == "GET":
        form.clinic_id.data = user.clinic_id or 0
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data for name in ProfileForm.DETAIL_FIELDS}
        changes["clinic_id"] = form.clinic_id.data or None
        services.update_profile(user, changes, by=user)
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"), code=303)
    return _profile_page(user, form, status=INVALID if request.method == "POST" else 200)


@bp.post("/profile/bank")
@allow(SIGNED_IN)
def bank_details() -> Response | tuple[str, int] | str:
    """Save (or, with everything empty, remove) where repayments go."""
    user = current_actor()
    bank_form = BankDetailsForm()
    if bank_form.validate_on_submit():
        try:
            details = bank.check(*(getattr(bank_form, name).data for name in bank.BANK_FIELDS))
        except bank.BankDetailsInvalid as error:
            show_error(error, bank_form)
        else:
            changed = services.update_bank_details(user, details, by=user)
            flash(_("Your bank details have been saved.") if changed else _("Nothing to change."), "success")
            return redirect(url_for("auth.profile") + "#bank-title", code=303)
    form = _profile_form(user, from_request=False)
    form.clinic_id.data = user.clinic_id or 0
    return _profile_page(user, form, bank_form, INVALID)

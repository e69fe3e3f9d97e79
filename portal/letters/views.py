"""Downloading, revoking and publicly verifying letters."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import access_log
from ..extensions import db, limiter
from ..forms import strip
from ..hookspecs import LetterKind
from ..models import Letter, SigningCertificate
from ..permissions import PUBLIC, SIGNED_IN, allow, can_access
from ..responses import current_actor, safe_next
from . import checking, service, signing
from .kinds import letter_kind

bp = Blueprint("letters", __name__, template_folder="templates")


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revoking"), filters=[strip], validators=[
        DataRequired(_l("Give the reason: it is kept with the letter.")), Length(max=2000)])
    next = HiddenField()


def _kind_and_subject(key: str, subject_id: int) -> tuple[LetterKind, Any]:
    """The kind and its subject, if this user may have the letter (404 otherwise)."""
    kind = letter_kind(key)
    subject = kind.load(subject_id) if kind else None
    if kind is None or subject is None or not kind.can_download(current_user, subject):
        abort(404)
    return kind, subject


def send_letter(letter: Letter) -> Response:
    """The letter's PDF as a download that no cache keeps, if the signed-in user may have it
    (``permissions.can_access``: the letter's kind decides; 404 otherwise)."""
    if not can_access(current_user, letter):
        abort(404)
    if letter.pdf is None:  # the retention period removed it: the letter still verifies
        abort(410)
    _log_personal_read(letter)
    response = send_file(BytesIO(letter.pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=f"{letter.reference}.pdf", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Letter-SHA256"] = letter.sha256
    return response


def _log_personal_read(letter: Letter) -> None:
    """A letter that holds passport details: its download is a read of them, logged at once."""
    kind = letter_kind(letter.kind)
    if kind is None or not kind.personal_facts:
        return
    holder = kind.holder(kind.load(letter.subject_id))
    if holder is not None:
        access_log.record_read(current_user, holder, f"letter {letter.reference}")
        db.session.commit()


def _cannot_have_it(kind: LetterKind, error: service.NotReady | service.RevokedLetter) -> tuple[str, int]:
    """The page that says why there is no letter to download: what is missing, or a revocation."""
    if isinstance(error, service.RevokedLetter):
        return render_template("letters/not_ready.html", kind=kind, revoked=error.letter), 409
    return render_template("letters/not_ready.html", kind=kind, missing=error.missing), 409


@bp.get("/letters/<key>/<int:subject_id>")
@allow(SIGNED_IN)
def download(key: str, subject_id: int) -> Response | tuple[str, int]:
    """The current letter's PDF. A GET never issues one: when there is none whose facts
    still hold, the page offers a button that issues it (a POST)."""
    kind, subject = _kind_and_subject(key, subject_id)
    try:
        letter = service.current_letter(kind, subject)
    except (service.NotReady, service.RevokedLetter) as exc:
        return _cannot_have_it(kind, exc)
    if letter is None:
        return render_template("letters/not_ready.html", kind=kind,
                               issue_url=url_for("letters.issue", key=key, subject_id=subject_id),
                               updated=service.latest_letter(kind, subject) is not None), 200
    return send_letter(letter)


@bp.post("/letters/<key>/<int:subject_id>/issue")
@allow(SIGNED_IN)
def issue(key: str, subject_id: int) -> Response | tuple[str, int]:
    """Issue the letter (or keep the current one, if its facts still hold), then download it."""
    kind, subject = _kind_and_subject(key, subject_id)
    try:
        service.obtain(kind, subject, by=current_actor())
    except (service.NotReady, service.RevokedLetter) as exc:
        return _cannot_have_it(kind, exc)
    return redirect(url_for("letters.download", key=key, subject_id=subject_id), code=303)


@bp.post("/letters/<key>/<int:subject_id>/reissue")
@allow(SIGNED_IN)
def reissue(key: str, subject_id: int) -> Response | tuple[str, int]:
    kind, subject = _kind_and_subject(key, subject_id)
    if not kind.can_revoke(current_user, subject):
        abort(403)
    try:
        letter = service.obtain(kind, subject, by=current_actor(), reissue=True)
    except service.NotReady as exc:
        return _cannot_have_it(kind, exc)
    flash(_("Letter %(reference)s issued.", reference=letter.reference), "success")
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.post("/letters/<int:letter_id>/revoke")
@allow(SIGNED_IN)
def revoke(letter_id: int) -> Response | tuple[str, int]:
    letter = db.session.get(Letter, letter_id) or abort(404)
    kind = letter_kind(letter.kind)
    subject = kind.load(letter.subject_id) if kind else None
    if kind is None or subject is None or not kind.can_revoke(current_user, subject):
        abort(404 if subject is None else 403)
    form = RevokeForm(prefix=f"letter{letter.id}")
    if not form.validate_on_submit():
        flash(" ".join(str(error) for error in form.reason.errors), "error")
        return redirect(safe_next(form.next.data), code=303)
    service.revoke(letter, form.reason.data, by=current_actor(), holder=kind.holder(subject))
    flash(_("Letter %(reference)s revoked.", reference=letter.reference), "success")
    return redirect(safe_next(form.next.data), code=303)


DEFAULT_PUBLIC_FIELDS = (("holder", _l("Issued to")), ("event", _l("Event or visit")), ("dates", _l("Dates")))


def _standing(letter: Letter) -> dict[str, Any]:
    """What the public pages say about an issued letter: its status, public facts and signature."""
    kind = letter_kind(letter.kind)
    fields = (kind.public_fields if kind and kind.public_fields else None) or DEFAULT_PUBLIC_FIELDS
    return {"letter": letter, "facts": letter.public_facts, "fields": fields,
            "kind_title": kind.title if kind else letter.kind,
            "newer": letter.superseded_by.reference if letter.superseded_by else None,
            "certificate": letter.certificate, "spaced": signing.spaced}


@bp.get("/verify/<token>")
@allow(PUBLIC)
def verify(token: str) -> tuple[str, int] | str:
    letter = db.session.scalar(db.select(Letter).where(Letter.token == token))
    if letter is None:
        return render_template("letters/verify.html", letter=None), 404
    return render_template("letters/verify.html", **_standing(letter))


# --- Check a letter: by its file, or by reference and check code --------------------------

class CheckFileForm(FlaskForm):
    letter = FileField(_l("The letter as a PDF file"), validators=[
        FileRequired(_l("Choose the PDF file of the letter."))],
        description=_l("At most 5 MB. The file is compared with the letters we issued and then forgotten: "
                       "it is not kept."))


class CheckCodeForm(FlaskForm):
    reference = StringField(_l("Reference"), filters=[strip], validators=[
        DataRequired(_l("Type the reference printed on the letter.")), Length(max=40)],
        description=_l("Printed at the top of the letter and beside the QR code, for example EP-2026-0042."))
    code = StringField(_l("Check code"), filters=[strip], validators=[
        DataRequired(_l("Type the check code printed beside the QR code.")), Length(max=20)],
        description=_l("Eight letters and digits beside the QR code; upper or lower case."))


# One allowance per address for both ways of checking: typing codes and uploading files.
_check_limit = limiter.shared_limit(lambda: str(current_app.config["LETTER_CHECK_LIMIT"]), scope="letter-check")


def _check_page(file_form: CheckFileForm | None = None, code_form: CheckCodeForm | None = None, *,
                status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template("letters/check.html", file_form=file_form or CheckFileForm(formdata=None),
                           code_form=code_form or CheckCodeForm(formdata=None), **context), status


@bp.get("/verify")
@allow(PUBLIC)
def check() -> tuple[str, int]:
    """The public "check a letter" page: upload the file, or type the reference and check code."""
    return _check_page()


@bp.post("/verify/file")
@allow(PUBLIC)
@_check_limit
def check_file() -> tuple[str, int]:
    """Whether an uploaded PDF is exactly a letter we issued, its status and its signature."""
    too_large = _("The file is larger than 5 MB, so it is not a letter we issued.")
    if (request.content_length or 0) > checking.MAX_BYTES + 64 * 1024:
        form = CheckFileForm(formdata=None)
        form.letter.errors = [too_large]
        return _check_page(form, status=413)
    form = CheckFileForm()
    if not form.validate_on_submit():
        return _check_page(form, status=422)
    content = form.letter.data.read(checking.MAX_BYTES + 1)
    if len(content) > checking.MAX_BYTES:
        form.letter.errors = [too_large]
        return _check_page(form, status=413)
    result = checking.check_file(content)
    context = _standing(result.letter) if result.letter is not None else {}
    return _check_page(form, file_check=result, **context)


@bp.post("/verify/code")
@allow(PUBLIC)
@_check_limit
def check_code() -> tuple[str, int]:
    """The letter with this reference and check code, for someone who holds only paper."""
    form = CheckCodeForm()
    if not form.validate_on_submit():
        return _check_page(code_form=form, status=422)
    letter = checking.find_by_code(form.reference.data, form.code.data)
    if letter is None:
        form.code.errors = [_("No letter has this reference and check code. Check both against the paper: "
                              "the code never uses the letters O, I or L, nor the digits 0 and 1.")]
        return _check_page(code_form=form, status=404)
    return _check_page(code_form=form, code_check=True, **_standing(letter))


@bp.get("/verify/certificates")
@allow(PUBLIC)
def certificates() -> str:
    """Every certificate that has signed our letters, by fingerprint, and how many each signed."""
    counts = dict(db.session.execute(select(Letter.certificate_id, func.count()).where(
        Letter.certificate_id.is_not(None)).group_by(Letter.certificate_id)).all())
    rows = db.session.scalars(select(SigningCertificate).order_by(SigningCertificate.first_used_at.desc())).all()
    return render_template("letters/certificates.html", certificates=rows, counts=counts, spaced=signing.spaced)


@bp.get("/verify/certificates/<fingerprint>.cer")
@allow(PUBLIC)
def certificate_file(fingerprint: str) -> Response:
    """A signing certificate (DER), to add to a PDF reader's trusted certificates."""
    record = db.session.scalar(select(SigningCertificate).where(SigningCertificate.fingerprint == fingerprint.lower()))
    if record is None:
        abort(404)
    return send_file(BytesIO(record.der), mimetype="application/pkix-cert", as_attachment=True,
                     download_name=f"letters-{record.fingerprint[:16]}.cer", max_age=3600)


def letter_panel(key: str, subject: Any) -> dict[str, Any] | None:
    """What a module's page shows about one kind of letter for one subject: the current
    letter to download, a button to issue one, or why there is none."""
    kind = letter_kind(key)
    if kind is None or not kind.can_download(current_user, subject):
        return None
    can_revoke = kind.can_revoke(current_user, subject)
    letters = service.history(kind, subject) if can_revoke else []
    latest = letters[0] if letters else service.latest_letter(kind, subject)
    missing, current, revoked = kind.missing(subject), None, None
    if not missing:
        try:
            current = service.current_letter(kind, subject)
        except service.RevokedLetter as exc:
            revoked = exc.letter
    return {
        "kind": kind, "missing": missing, "latest": latest, "current": current, "revoked": revoked,
        "letters": letters, "can_revoke": can_revoke,
        "download_url": url_for("letters.download", key=key, subject_id=subject.id),
        "issue_url": url_for("letters.issue", key=key, subject_id=subject.id),
        "reissue_url": url_for("letters.reissue", key=key, subject_id=subject.id),
        "revoke_form": lambda letter: RevokeForm(prefix=f"letter{letter.id}", formdata=None,
                                                 data={"next": request.full_path}),
    }

"""A module from outside the portal brings its own rules through the hooks, and the core
keeps them without knowing anything about it: its file is refused to everyone its own
permission check refuses, and its timeline reads with its own labels."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

import pytest
from flask import Blueprint, abort, render_template_string
from flask_babel import lazy_pgettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from portal import audit, hookimpl, storage
from portal.extensions import db
from portal.hookspecs import timeline_labels
from portal.models import StoredFile, User
from portal.permissions import SIGNED_IN, allow, can_access

PDF = b"%PDF-1.4 a field note\n%%EOF"


@dataclass
class FieldNote:
    """The outside module's own record: a note a doctor files, with a scan attached."""

    __tablename__: ClassVar[str] = "field_notes"  # what the audit trail records it under
    id: int
    owner_id: int
    file_id: int


NOTES: dict[int, FieldNote] = {}

bp = Blueprint("field_notes", __name__, url_prefix="/field-notes")


def _note(note_id: int) -> FieldNote:
    return NOTES.get(note_id) or abort(404)


@bp.get("/<int:note_id>/scan")
@allow(SIGNED_IN)
def scan(note_id: int):
    note = _note(note_id)
    return storage.send_stored(db.session.get(StoredFile, note.file_id), of=note)


@bp.get("/<int:note_id>")
@allow(SIGNED_IN)
def history(note_id: int):
    note = _note(note_id)
    if not can_access(current_user, note):
        abort(404)
    return render_template_string('{% include "_partials/timeline.html" %}', events=audit.timeline(note))


class FieldNotes:
    """The plugin object, registered as an outside module would be."""

    @hookimpl
    def portal_blueprints(self):
        return [bp]

    @hookimpl
    def portal_can_access(self, user, subject):
        if isinstance(subject, FieldNote):
            return subject.owner_id == user.id
        return None

    @hookimpl
    def portal_labels(self):
        return timeline_labels(FieldNote.__tablename__, states={
            "filed": lazy_pgettext("field note state", "filed in the archive"),
        }, actions={
            "note_filed": lazy_pgettext("field note action", "Field note filed"),
        })


class Generous:
    """A careless module that says yes to every subject."""

    @hookimpl
    def portal_can_access(self, user, subject):
        return True


@pytest.fixture
def config_overrides():
    return {"EXTRA_MODULES": {"field_notes": FieldNotes()}}


@pytest.fixture
def note(app, make_user):
    owner = make_user(roles=["doctor"], name="Dr Owner")
    stored = storage.store_upload(FileStorage(io.BytesIO(PDF), filename="note.pdf"), by=owner)
    db.session.commit()
    filed = FieldNote(id=1, owner_id=owner.id, file_id=stored.id)
    NOTES[filed.id] = filed
    audit.record("note_filed", filed, actor=owner, to_state="filed")
    db.session.commit()
    yield filed
    NOTES.clear()


def test_its_file_goes_to_its_owner_only(client, login, make_user, note):
    assert client.get("/field-notes/1/scan").status_code == 302  # signed out: to the sign-in page
    login(make_user(roles=["doctor", "staff", "finance", "admin"]))  # every role the core knows
    assert client.get("/field-notes/1/scan").status_code == 404
    client.post("/logout")
    login(db.session.get(User, note.owner_id))
    response = client.get("/field-notes/1/scan")
    assert response.status_code == 200 and response.data == PDF
    response.close()


def test_its_timeline_reads_with_its_own_labels(client, login, note):
    login(db.session.get(User, note.owner_id))
    page = client.get("/field-notes/1").get_data(as_text=True)
    assert '<span class="what">Field note filed</span>' in page  # not the stored "note_filed"
    assert "— → filed in the archive" in page
    assert audit.state_label("field_notes", "filed") == "filed in the archive"


def test_a_subject_no_module_claims_is_refused(app, make_user, note):
    owner_file = db.session.get(StoredFile, note.file_id)
    with app.test_request_context():
        assert not can_access(make_user(roles=["admin"]), owner_file)


def test_one_module_saying_no_outweighs_another_saying_yes(make_app, make_user, note):
    app = make_app(EXTRA_MODULES={"field_notes": FieldNotes(), "generous": Generous()})
    with app.app_context():
        stranger = make_user(roles=["doctor"])
        owner_file = db.session.get(StoredFile, note.file_id)
        with app.test_request_context():
            assert not can_access(stranger, note)  # the owner module says no
            assert can_access(stranger, owner_file)  # nobody objects to what "generous" allows

"""Backup and restore that lose nothing, on SQLite and on PostgreSQL alike: a populated portal
(the 1k benchmark seed, signed letters, stored files, passport numbers) is backed up while a
thread keeps writing, restored into a fresh instance with the same keys, and everything the
snapshot held is there: row counts and money totals as the manifest says, every letter still
verifies, every stored file opens, every passport number decrypts. A wrong key, an altered or
encrypted archive without its key, and an instance already in use are refused with a clear
message, and nothing is written."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from portal import backup, bench_seed, clock
from portal.blueprints.donors import services as donors
from portal.extensions import db
from portal.models import Backup, Donation, Donor, Heartbeat, Letter, StoredFile, User
from portal.storage import path_of, store_upload
from tests.fixtures.concurrency import at_once
from tests.run_suites import drop_postgres_database, recreate_postgres_database

PDF = b"%PDF-1.4\n% a receipt\n" + b"0" * 2000


def populate(request) -> dict[str, object]:
    """The 1k seed, a signed letter of each kind and a few stored files; what the checks compare."""
    bench_seed.seed_database("1k", 1, clock.today())  # into an empty database: the letters' fixture after it
    letter_of_kind = request.getfixturevalue("letter_of_kind")
    for kind in ("visa_support", "invitation", "donation_thanks", "donor_impact"):
        letter_of_kind(kind)
    staff = request.getfixturevalue("make_user")(roles=["staff"])
    thanked = donors.acknowledge_pending(by=staff, workers=2)  # the seed's pending gifts: a letter per donor
    assert thanked.letters >= 25, thanked  # how many donors the seed leaves waiting depends on the day
    letters = db.session.scalars(select(Letter).where(Letter.pdf.is_not(None))).all()
    owner = db.session.scalars(select(User).where(User.passport_number.is_not(None))).first() or \
        db.session.scalars(select(User)).first()
    files = [store_upload(FileStorage(io.BytesIO(PDF + bytes([n])), filename=f"receipt-{n}.pdf",
                                      content_type="application/pdf"), by=owner) for n in range(5)]
    db.session.commit()
    passports = dict(db.session.execute(select(User.id, User.passport_number)
                                        .where(User.passport_number.is_not(None))).all())
    return {"letters": [(letter.token, letter.pdf, letter.sha256) for letter in letters],
            "files": [(f.id, f.sha256) for f in files], "passports": passports}


@pytest.fixture
def fresh_database(database_url, tmp_path):
    """An empty database of the same kind as the test's, for the instance restored into."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored' / 'portal.db'}"
        return
    url = make_url(database_url)
    restored = recreate_postgres_database(url.set(database=f"{url.database}_restored")
                                          .render_as_string(hide_password=False))
    yield restored
    drop_postgres_database(restored)


def restored_app(make_app, fresh_database, tmp_path, **settings):
    folder = tmp_path / "restored"
    folder.mkdir(exist_ok=True)
    return make_app(INSTANCE_PATH=str(folder / "instance"), SQLALCHEMY_DATABASE_URI=fresh_database,
                    UPLOAD_FOLDER=str(folder / "uploads"), **settings)


def test_a_backup_taken_while_writing_restores_everything_the_snapshot_held(
        app, make_app, request, fresh_database, tmp_path):
    held = populate(request)
    donor_id = db.session.scalars(select(Donor.id)).first()
    stop, written, errors = threading.Event(), [0], []

    def keep_writing() -> None:  # a member of staff recording gifts all through the backup
        with app.app_context():
            try:
                while not stop.is_set() or written[0] < 5:
                    db.session.add(Donation(donor_id=donor_id, amount=1234, currency="GBP",
                                            method="bank_transfer", received_on=clock.today()))
                    db.session.commit()
                    written[0] += 1
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = backup.create_backup(tmp_path / "backups")
    finally:
        stop.set()
        writer.join(timeout=60)
    assert errors == [] and written[0] >= 5
    manifest = result.manifest
    live_donations = db.session.scalar(select(func.count()).select_from(Donation))
    assert manifest["tables"]["donations"] <= live_donations  # the snapshot is one moment, not the end
    assert manifest["tables"]["applications"] >= 1000 and manifest["tables"]["letters"] >= len(held["letters"])
    assert db.session.scalars(select(Backup)).one().state == "ok"
    with tarfile.open(result.path) as archive:
        names = set(archive.getnames())
    assert not {"field_encryption.key", "secret_key", "letter-signing.p12"} & {Path(n).name for n in names}

    target = restored_app(make_app, fresh_database, tmp_path, FIELD_ENCRYPTION_KEYS=app.config["FIELD_ENCRYPTION_KEYS"],
                          LETTER_CHECK_LIMIT="1000 per minute")  # every letter is checked below
    with target.app_context():
        report = backup.restore_backup(result.path)
        assert report.ok, [c for c in report.checks if not c.ok]
        assert {c.what.split(" ")[-1] for c in report.checks if c.what.startswith("rows in")} >= {"donations",
                                                                                                   "payments"}
        assert db.session.scalar(select(func.count()).select_from(Donation)) == manifest["tables"]["donations"]
        totals = backup.census(db.session.connection())["totals"]
        assert totals == manifest["totals"] and totals["payments.amount_gbp"]
        for file_id, sha256 in held["files"]:
            assert hashlib.sha256(path_of(db.session.get(StoredFile, file_id)).read_bytes()).hexdigest() == sha256
        assert dict(db.session.execute(select(User.id, User.passport_number)
                                       .where(User.passport_number.is_not(None))).all()) == held["passports"]
        db.session.remove()
    client = target.test_client()
    for token, pdf, _sha256 in held["letters"]:  # the upload check compares the SHA-256
        assert "Valid: this letter was issued" in client.get(f"/verify/{token}").get_data(as_text=True)
        check = client.post("/verify/file", data={"letter": (io.BytesIO(pdf), "letter.pdf")}).get_data(as_text=True)
        assert "Genuine: this file is exactly letter" in check and "Its digital signature is intact" in check


def test_a_wrong_key_is_refused_clearly_and_nothing_is_written(app, make_app, letter_of_kind, fresh_database,
                                                              tmp_path):
    letter_of_kind("visa_support")
    result = backup.create_backup(tmp_path / "backups")
    target = restored_app(make_app, fresh_database, tmp_path, FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    with target.app_context():
        with pytest.raises(backup.BackupError, match="made with another field-encryption key.*Nothing was restored"):
            backup.restore_backup(result.path)
        assert backup._database_is_empty(target.config["SQLALCHEMY_DATABASE_URI"])
    uploads = Path(target.config["UPLOAD_FOLDER"])
    assert not uploads.exists() or not any(uploads.iterdir())


def test_an_encrypted_archive_needs_its_key_and_refuses_any_change(app, make_app, letter_of_kind, fresh_database,
                                                                   tmp_path):
    letter_of_kind("visa_support")
    key = Fernet.generate_key().decode()
    app.config["BACKUP_ENCRYPTION_KEY"] = key
    result = backup.create_backup(tmp_path / "backups")
    content = result.path.read_bytes()
    assert result.encrypted and result.path.suffix == ".enc"
    assert b"SQLite format" not in content and b"manifest.json" not in content and b"PGDMP" not in content
    target = restored_app(make_app, fresh_database, tmp_path, FIELD_ENCRYPTION_KEYS=app.config["FIELD_ENCRYPTION_KEYS"])
    with target.app_context():
        with pytest.raises(backup.BackupError, match="set BACKUP_ENCRYPTION_KEY"):
            backup.restore_backup(result.path)
        altered = tmp_path / "altered.tar.enc"
        damaged = bytearray(content)
        damaged[len(damaged) // 2] ^= 1
        altered.write_bytes(bytes(damaged))
        target.config["BACKUP_ENCRYPTION_KEY"] = key
        with pytest.raises(backup.BackupError, match="cannot be decrypted|altered"):
            backup.restore_backup(altered)
        cut = tmp_path / "cut.tar.enc"
        cut.write_bytes(content[:len(content) // 2])
        with pytest.raises(backup.BackupError, match="cut short|cannot be decrypted|altered"):
            backup.restore_backup(cut)
        assert backup._database_is_empty(target.config["SQLALCHEMY_DATABASE_URI"])
        assert backup.restore_backup(result.path).ok


def test_a_passphrase_archive(app, make_app, letter_of_kind, fresh_database, tmp_path):
    letter_of_kind("visa_support")
    result = backup.create_backup(tmp_path / "backups", passphrase="correct horse battery staple")
    target = restored_app(make_app, fresh_database, tmp_path, FIELD_ENCRYPTION_KEYS=app.config["FIELD_ENCRYPTION_KEYS"])
    with target.app_context():
        with pytest.raises(backup.BackupError, match="--passphrase"):
            backup.restore_backup(result.path)
        with pytest.raises(backup.BackupError, match="cannot be decrypted"):
            backup.restore_backup(result.path, passphrase="wrong")
        assert backup.restore_backup(result.path, passphrase="correct horse battery staple").ok


def test_restore_refuses_an_instance_in_use_unless_forced(app, runner, letter_of_kind, tmp_path):
    letter_of_kind("visa_support")
    out = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert out.exit_code == 0, out.output
    assert "The keys are NOT in the archive" in out.output and "field_encryption.key" in out.output
    archive = next((tmp_path / "backups").glob("portal-*.tar"))
    db.session.remove()  # the test holds no connection while the command replaces the database
    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0 and "already holds data" in refused.output
    letters = db.session.scalar(select(func.count()).select_from(Letter))
    forced = runner.invoke(args=["restore", "--force", str(archive)])
    assert forced.exit_code == 0, forced.output
    assert "Everything matches" in forced.output
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Letter)) == letters


def test_a_file_that_is_not_a_backup_is_refused(app, tmp_path):
    bogus = tmp_path / "holiday.tar"
    with tarfile.open(bogus, "w") as archive:
        archive.addfile(tarfile.TarInfo("photo.jpg"), io.BytesIO(b""))
    with pytest.raises(backup.BackupError, match="no readable manifest"):
        backup.restore_backup(bogus)
    (tmp_path / "noise.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(backup.BackupError, match="not a portal backup"):
        backup.restore_backup(tmp_path / "noise.bin")


def test_the_schedule_takes_one_backup_when_due_and_keeps_the_newest(app, tmp_path):
    app.config.update(BACKUP_FOLDER=str(tmp_path / "scheduled"), BACKUP_KEEP=2, BACKUP_EVERY_HOURS=24)
    backup.scheduled_backup()
    backup.scheduled_backup()  # not due again yet
    assert db.session.scalar(select(func.count()).select_from(Backup)) == 1
    for _ in range(3):  # due again each time (as if a day had passed)
        app.config["BACKUP_EVERY_HOURS"] = 0.000001
        db.session.execute(update(Heartbeat).values(seen_at=clock_ago(hours=2)))
        db.session.commit()
        backup.scheduled_backup()
    kept = sorted((tmp_path / "scheduled").glob("portal-*.tar"))
    assert len(kept) == 2
    assert db.session.scalar(select(func.count()).select_from(Backup).where(Backup.state == "ok")) == 2


def test_two_consumers_checking_at_once_take_one_backup(app):
    def claim() -> bool:
        with app.app_context():
            try:
                return backup._claim()
            finally:
                db.session.remove()

    assert sorted(at_once([claim] * 4)) == [False, False, False, True]


def clock_ago(**delta):
    import datetime as dt

    from portal.models.types import utcnow
    return utcnow() - dt.timedelta(**delta)


def test_an_archive_from_an_older_release_is_migrated_forward(app, make_app, letter_of_kind, fresh_database,
                                                             tmp_path):
    """An archive taken before the newest migration: restore runs it forward and still matches."""
    from flask_migrate import downgrade, upgrade

    letter = letter_of_kind("visa_support")
    token = letter.token
    db.session.remove()
    downgrade(revision="0017")  # as the release before this one left the database
    try:
        result = backup._write_archive(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "older.tar", None, None)
    finally:
        upgrade()  # the test's own database back at head for the next test
    assert result.manifest["migration"] == "0017" and "backups" not in result.manifest["tables"]
    target = restored_app(make_app, fresh_database, tmp_path, FIELD_ENCRYPTION_KEYS=app.config["FIELD_ENCRYPTION_KEYS"])
    with target.app_context():
        report = backup.restore_backup(result.path)
        assert (report.migrated_from, report.migrated_to) == ("0017", "0019")
        assert report.ok, [c for c in report.checks if not c.ok]
        db.session.remove()
    assert "Valid: this letter was issued" in target.test_client().get(f"/verify/{token}").get_data(as_text=True)

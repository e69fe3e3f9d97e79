"""Backups that provably lose nothing: ``flask --app portal backup PATH`` and ``restore PATH``.

An archive (tar) holds a consistent snapshot of the database taken while the portal keeps
serving (SQLite: ``VACUUM INTO``; PostgreSQL: ``pg_dump`` in the custom format, run inside an
exported snapshot), the uploads folder, and ``manifest.json``: the portal's version, the
migration head, every table's row count and the money totals *of that same snapshot*, the
SHA-256 of every member, and a check value encrypted with the field key. The keys are never in
the archive: without the field key it cannot be read, so they are kept separately.

With ``BACKUP_ENCRYPTION_KEY`` (a Fernet key) or a passphrase the whole archive is encrypted as
a stream of authenticated chunks, numbered, the last one marked, so a chunk cut, swapped or
altered is refused.

Restoring goes into an empty instance (``--force`` to overwrite): the archive is read and every
member's hash and the key checked before anything is written; then the database and files are
put back, migrations run forward if the archive is older, and the counts, totals and files are
compared with the manifest, every letter's stored PDF against its SHA-256, every encrypted
field decrypted.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from flask import current_app
from huey import crontab
from sqlalchemy import Connection, create_engine, insert, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .health import last_backup
from .models import Backup, Heartbeat, Letter, User
from .models.types import field_cipher, utcnow
from .tasks import periodic

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
FILES_PREFIX = "files/"
KEY_CHECK = b"programme-portal backup key check"

# The money the manifest totals, per currency where it has one; plain SQL, the same on both databases.
TOTALS = {
    "payments.amount_gbp": "SELECT 'GBP', COALESCE(SUM(amount_gbp), 0) FROM payments",
    "expense_lines.amount_gbp": "SELECT 'GBP', COALESCE(SUM(amount_gbp), 0) FROM expense_lines",
    "budget_lines.approved_amount": "SELECT approved_currency, SUM(approved_amount) FROM budget_lines "
                                    "WHERE approved_amount IS NOT NULL GROUP BY approved_currency",
    "donations.amount": "SELECT currency, SUM(amount) FROM donations GROUP BY currency",
    "donations.amount_with_gift_aid_declaration": (
        "SELECT currency, SUM(amount) FROM donations d WHERE EXISTS "
        "(SELECT 1 FROM gift_aid_declarations g WHERE g.donor_id = d.donor_id) GROUP BY currency"),
    "donation_allocations.amount": "SELECT 'minor units', COALESCE(SUM(amount), 0) FROM donation_allocations",
}

# (table, column): the money columns whose sums an upgrade or a restore must keep (the migration
# tests and bench/upgrade.py compare them; TOTALS above is the backup manifest's view of them).
MONEY_COLUMNS = (
    ("budget_lines", "approved_amount"),
    ("budget_lines", "requested_amount"),
    ("expense_lines", "amount"),
    ("expense_lines", "amount_gbp"),
    ("payments", "amount_gbp"),
    ("donations", "amount"),
    ("donation_allocations", "amount"),
    ("programme_budgets", "amount_gbp"),
)

ENCRYPTED_MAGIC = b"PORTAL-BACKUP-ENC1\n"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# --- Snapshots and what they hold --------------------------------------------------------

def _tables(connection: Connection) -> list[str]:
    return sorted(name for name in inspect(connection).get_table_names())


def census(connection: Connection) -> dict[str, Any]:
    """Every table's row count, the money totals and the migration, as ``connection`` sees them."""
    tables = _tables(connection)
    counts = {name: int(connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()) for name in tables}
    totals = {}
    for name, query in TOTALS.items():
        if name.split(".")[0] in tables:
            totals[name] = {str(unit): int(amount) for unit, amount in connection.execute(text(query)) if amount}
    migration = (connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                 if "alembic_version" in tables else None)
    return {"tables": counts, "totals": totals, "migration": migration}


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def _libpq_url(url: str) -> str:
    """The database URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _snapshot_sqlite(url: str, target: Path) -> dict[str, Any]:
    source = make_url(url).database
    if not source:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    connection = sqlite3.connect(source, timeout=30)
    try:
        # One read transaction: what the portal commits meanwhile is simply not in it.
        connection.execute("VACUUM INTO ?", (str(target),))
    finally:
        connection.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as snapshot:
            return census(snapshot) | {"storage_keys": _storage_keys(snapshot)}
    finally:
        engine.dispose()


def _snapshot_postgres(url: str, target: Path) -> dict[str, Any]:
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            # pg_dump joins this very snapshot, so the dump and the census see the same rows.
            snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = census(connection) | {"storage_keys": _storage_keys(connection)}
            result = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
                 f"--file={target}", _libpq_url(url)], capture_output=True, text=True)
            connection.rollback()
    finally:
        engine.dispose()
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def portal_version() -> str:
    try:
        return version("programme-portal")
    except PackageNotFoundError:  # a checkout not installed as a package
        return "unknown"


# --- Encryption of a whole archive ---------------------------------------------------------

def _fernet_for(key: str | None, passphrase: str | None, salt: bytes) -> Fernet | None:
    if passphrase:
        derived = Scrypt(salt=salt, length=32, n=2 ** 15, r=8, p=1).derive(passphrase.encode())
        return Fernet(base64.urlsafe_b64encode(derived))
    return Fernet(key.encode()) if key else None


def _encrypt_file(plain: Path, target: Path, key: str | None, passphrase: str | None) -> None:
    salt = os.urandom(16)
    cipher = _fernet_for(key, passphrase, salt)
    assert cipher is not None
    with plain.open("rb") as source, target.open("wb") as out:
        out.write(ENCRYPTED_MAGIC + (b"P" if passphrase else b"K") + salt)
        index, block = 0, source.read(CHUNK)
        while True:
            following = source.read(CHUNK)
            last = not following
            token = cipher.encrypt(struct.pack(">Q?", index, last) + block)
            out.write(struct.pack(">I", len(token)) + token)
            if last:
                break
            index, block = index + 1, following


def _decrypt_file(source: IO[bytes], target: Path, key: str | None, passphrase: str | None) -> None:
    kind, salt = source.read(1), source.read(16)
    if kind == b"P" and not passphrase:
        raise BackupError("this archive is encrypted with a passphrase: give it with --passphrase")
    cipher = _fernet_for(None if kind == b"P" else key, passphrase if kind == b"P" else None, salt)
    if cipher is None:
        raise BackupError("this archive is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was made with")
    expected, finished = 0, False
    with target.open("wb") as out:
        while not finished:
            header = source.read(4)
            if len(header) < 4:
                raise BackupError("the archive ends before its last part: it was cut short")
            try:
                plain = cipher.decrypt(source.read(struct.unpack(">I", header)[0]))
            except InvalidToken as exc:
                raise BackupError("the archive cannot be decrypted with this key or passphrase, or it "
                                  "was altered") from exc
            index, finished = struct.unpack(">Q?", plain[:9])
            if index != expected:
                raise BackupError("the archive's parts are out of order: it was altered")
            out.write(plain[9:])
            expected += 1
        if source.read(1):
            raise BackupError("the archive goes on after its last part: it was altered")


# --- Backup --------------------------------------------------------------------------------

@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    size: int
    sha256: str
    encrypted: bool
    missing_files: list[str] = field(default_factory=list)


def key_locations() -> list[str]:
    """Where the keys a backup needs, and does not hold, are: to be kept somewhere else."""
    instance = Path(current_app.instance_path)
    places = [f"the field-encryption key (FIELD_ENCRYPTION_KEYS; by default {instance / 'field_encryption.key'})",
              f"the secret key (SECRET_KEY; by default {instance / 'secret_key'})",
              "the letter-signing certificate (LETTER_SIGNING_PKCS12; in development "
              f"{instance / 'letter-signing.p12'})"]
    if current_app.config.get("BACKUP_ENCRYPTION_KEY"):
        places.append("the backup encryption key (BACKUP_ENCRYPTION_KEY)")
    return places


def create_backup(target: Path, *, passphrase: str | None = None, trigger: str = "manual") -> BackupResult:
    """Write a backup archive to ``target`` (a file, or a folder to put a dated file in) and
    record it. The portal may keep serving meanwhile."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    key = current_app.config.get("BACKUP_ENCRYPTION_KEY")
    encrypted = bool(key or passphrase)
    if target.is_dir() or not target.suffix:
        target.mkdir(parents=True, exist_ok=True)
        stem, suffix = f"portal-{utcnow():%Y%m%d-%H%M%S}", f".tar{'.enc' if encrypted else ''}"
        number, folder = 1, target
        target = folder / f"{stem}{suffix}"
        while target.exists():  # two backups in one second
            number += 1
            target = folder / f"{stem}-{number}{suffix}"
    record = Backup(trigger=trigger, path=str(target), state="failed", message="started")
    db.session.add(record)
    db.session.commit()
    try:
        result = _write_archive(url, target, key, passphrase)
    except Exception as exc:
        record.message, record.finished_at = str(exc)[:2000], utcnow()
        db.session.commit()
        raise
    record.state, record.finished_at, record.size, record.sha256 = "ok", utcnow(), result.size, result.sha256
    record.message = f"{len(result.missing_files)} stored files missing" if result.missing_files else None
    db.session.commit()
    return result


def _write_archive(url: str, target: Path, key: str | None, passphrase: str | None) -> BackupResult:
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        folder = Path(work)
        member = POSTGRES_MEMBER if _is_postgres(url) else SQLITE_MEMBER
        database_file = folder / member
        found = (_snapshot_postgres if _is_postgres(url) else _snapshot_sqlite)(url, database_file)
        storage_keys = found.pop("storage_keys")
        members = {member: {"sha256": _sha256(database_file), "size": database_file.stat().st_size}}
        files = sorted(path for path in uploads.rglob("*") if path.is_file()) if uploads.exists() else []
        copies = folder / "files"
        for path in files:  # copied first: a file changing while the archive is written cannot tear it
            relative = path.relative_to(uploads).as_posix()
            copy = copies / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            members[FILES_PREFIX + relative] = {"sha256": _sha256(copy), "size": copy.stat().st_size}
        missing = sorted(key for key in storage_keys if not (uploads / key[:2] / key).is_file())
        manifest = {
            "format": FORMAT, "portal_version": portal_version(), "created_at": utcnow().isoformat(),
            "database": "postgresql" if _is_postgres(url) else "sqlite", **found, "members": members,
            "missing_files": missing, "key_check": field_cipher().encrypt(KEY_CHECK).decode(),
        }
        plain = folder / "archive.tar" if (key or passphrase) else target.with_name(target.name + ".part")
        with tarfile.open(plain, "w") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
            archive.add(database_file, arcname=member)
            for name in members:
                if name.startswith(FILES_PREFIX):
                    archive.add(copies / name.removeprefix(FILES_PREFIX), arcname=name)
        if key or passphrase:
            part = target.with_name(target.name + ".part")
            _encrypt_file(plain, part, key, passphrase)
            plain = part
        os.replace(plain, target)  # the archive appears whole or not at all
    return BackupResult(target, manifest, target.stat().st_size, _sha256(target), bool(key or passphrase), missing)


def _storage_keys(connection: Connection) -> list[str]:
    """The stored files a snapshot names (read in it: a file deleted since is reported missing)."""
    return [row[0] for row in connection.execute(text("SELECT storage_key FROM stored_files"))]


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(content), int(utcnow().timestamp()), 0o600
    archive.addfile(info, io.BytesIO(content))


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest successful archives in ``folder``; what was deleted."""
    backups = db.session.scalars(select(Backup).where(Backup.state == "ok").order_by(Backup.finished_at.desc())).all()
    removed = []
    for record in [b for b in backups if Path(b.path).parent == folder][keep:]:
        Path(record.path).unlink(missing_ok=True)
        record.state, record.message = "failed", "deleted: older than the backups kept"
        removed.append(Path(record.path))
    db.session.commit()
    return removed


# --- The schedule --------------------------------------------------------------------------

CLAIM = "backup"  # the heartbeat row a consumer claims to take the scheduled backup
CLAIM_HOURS = 1  # a claim older than this (its consumer died mid-backup) may be taken again


def backup_folder() -> Path:
    return Path(current_app.config.get("BACKUP_FOLDER") or Path(current_app.instance_path) / "backups")


def _claim() -> bool:
    """Whether this consumer takes the backup now: one conditional write, so of several
    consumers checking at once exactly one does."""
    now = utcnow()
    with db.engine.begin() as connection:
        taken = connection.execute(update(Heartbeat).where(
            Heartbeat.name == CLAIM, Heartbeat.seen_at < now - dt.timedelta(hours=CLAIM_HOURS)).values(seen_at=now))
        if taken.rowcount == 1:
            return True
        if connection.execute(select(Heartbeat.name).where(Heartbeat.name == CLAIM)).first() is not None:
            return False
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(Heartbeat).values(name=CLAIM, seen_at=now))
        return True
    except IntegrityError:  # another consumer claimed it first
        return False


@periodic("core.backup", crontab(minute="*/15"))
def scheduled_backup() -> None:
    """Every quarter of an hour: take a backup into BACKUP_FOLDER when the last is
    BACKUP_EVERY_HOURS old (or there is none), then keep the BACKUP_KEEP newest."""
    every = float(current_app.config["BACKUP_EVERY_HOURS"])
    if every <= 0:
        return
    last = last_backup()
    db.session.rollback()
    if last is not None and last.finished_at and utcnow() - last.finished_at < dt.timedelta(hours=every):
        return
    if not _claim():
        return
    folder = backup_folder()
    try:
        create_backup(folder, trigger="scheduled")
    except Exception:
        current_app.logger.exception("the scheduled backup failed")
        raise
    prune(folder, int(current_app.config["BACKUP_KEEP"]))


# --- Restore -------------------------------------------------------------------------------

@dataclass
class Check:
    what: str
    expected: Any
    found: Any

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    checks: list[Check]
    migrated_from: str | None
    migrated_to: str | None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _open_archive(path: Path, work: Path, passphrase: str | None) -> tarfile.TarFile:
    """The archive as a tar, decrypted into ``work`` first if it is encrypted."""
    with path.open("rb") as source:
        encrypted = source.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC
        if encrypted:
            plain = work / "archive.tar"
            _decrypt_file(source, plain, current_app.config.get("BACKUP_ENCRYPTION_KEY"), passphrase)
            path = plain
    try:
        return tarfile.open(path, "r:")
    except tarfile.TarError as exc:
        raise BackupError(f"{path.name} is not a portal backup archive (or it is encrypted and the key is "
                          "missing)") from exc


def read_archive(path: Path, work: Path, passphrase: str | None = None) -> dict[str, Any]:
    """Unpack the archive into ``work`` and check it whole: the manifest, every member's hash
    and size, no member outside the manifest or outside ``work``, and that this instance's field
    key opens it. Writes nothing outside ``work``."""
    with _open_archive(path, work, passphrase) as archive:
        try:
            manifest = json.load(archive.extractfile(MANIFEST))  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError) as exc:
            raise BackupError(f"{path.name} has no readable manifest: it is not a portal backup") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{path.name} is a backup of format {manifest.get('format')}; this portal reads {FORMAT}")
        expected = manifest["members"]
        names = {member.name for member in archive.getmembers()} - {MANIFEST}
        if names != set(expected):
            raise BackupError(f"{path.name} holds other members than its manifest lists: it was altered")
        archive.extractall(work / "unpacked", members=[m for m in archive.getmembers() if m.name != MANIFEST],
                           filter="data")
    for name, facts in expected.items():
        unpacked = work / "unpacked" / name
        if _sha256(unpacked) != facts["sha256"] or unpacked.stat().st_size != facts["size"]:
            raise BackupError(f"{name} in {path.name} does not match its manifest: the archive is damaged")
    try:
        if field_cipher().decrypt(manifest["key_check"].encode()) != KEY_CHECK:
            raise InvalidToken
    except InvalidToken as exc:
        raise BackupError("this backup was made with another field-encryption key: this instance's "
                          "FIELD_ENCRYPTION_KEYS (or instance/field_encryption.key) cannot read its passport "
                          "numbers, letters or bank details. Put the key it was made with first in "
                          "FIELD_ENCRYPTION_KEYS and run restore again. Nothing was restored.") from exc
    return dict(manifest)


def _database_is_empty(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return not [t for t in _tables(connection) if t != "alembic_version"]
    finally:
        engine.dispose()


def restore_backup(path: Path, *, force: bool = False, passphrase: str | None = None) -> RestoreReport:
    """Restore the archive at ``path`` into this instance, then migrate forward and verify it."""
    from flask_migrate import upgrade

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    db.session.remove()  # nothing of this process holds the database while it is replaced
    if not _is_postgres(url):
        db.engine.dispose()  # connections to the old file would go on reading it
    with tempfile.TemporaryDirectory(prefix=".restore-") as work:
        folder = Path(work)
        manifest = read_archive(path, folder, passphrase)  # nothing is written before this passes
        if (manifest["database"] == "postgresql") != _is_postgres(url):
            raise BackupError(f"this is a {manifest['database']} backup; this instance's database is "
                              f"{'PostgreSQL' if _is_postgres(url) else 'SQLite'}")
        uploads_used = uploads.exists() and any(uploads.iterdir())
        if not force and (not _database_is_empty(url) or uploads_used):
            raise BackupError("this instance already holds data (its database or its uploads folder): restore "
                              "into an empty instance, or give --force to replace what it holds")
        unpacked = folder / "unpacked"
        if _is_postgres(url):
            options = ["--clean", "--if-exists"] if force else []
            result = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", *options,
                                     f"--dbname={_libpq_url(url)}", str(unpacked / POSTGRES_MEMBER)],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        else:
            database = Path(make_url(url).database or "")
            for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
                leftover.unlink(missing_ok=True)
            shutil.copyfile(unpacked / SQLITE_MEMBER, database)
        if force and uploads.exists():
            shutil.rmtree(uploads)
        if (unpacked / "files").exists():
            shutil.copytree(unpacked / "files", uploads, dirs_exist_ok=True)
        uploads.mkdir(parents=True, exist_ok=True)
    before = manifest["migration"]
    upgrade()
    db.session.remove()
    with db.engine.connect() as connection:
        now = census(connection)
    checks = [Check(f"rows in {name}", count, now["tables"].get(name)) for name, count in manifest["tables"].items()
              if name != "alembic_version"]
    checks += [Check(f"total of {name}", amounts, now["totals"].get(name, {}))
               for name, amounts in manifest["totals"].items()]
    checks += [Check(f"file {name.removeprefix(FILES_PREFIX)}", facts["sha256"],
                     _sha256(uploads / name.removeprefix(FILES_PREFIX)))
               for name, facts in manifest["members"].items() if name.startswith(FILES_PREFIX)]
    checks += list(_contents_readable())
    return RestoreReport(manifest, checks, before, now["migration"])


def _contents_readable() -> Iterator[Check]:
    """Every letter's stored PDF still matches its SHA-256, and every encrypted field decrypts."""
    letters = mismatched = 0
    query = select(Letter.sha256, Letter.pdf).where(Letter.pdf.is_not(None)).execution_options(yield_per=200)
    for sha256, pdf in db.session.execute(query):  # decrypted as each row is read
        letters += 1
        mismatched += hashlib.sha256(pdf or b"").hexdigest() != sha256
    yield Check(f"letters whose PDF matches its SHA-256 (of {letters})", 0, mismatched)
    try:  # every encrypted column of every person is decrypted as the rows are read
        people = sum(1 for _user in db.session.scalars(select(User).execution_options(yield_per=500)))
        yield Check(f"people whose encrypted details decrypt ({people})", True, True)
    except RuntimeError:
        yield Check("people whose encrypted details decrypt", True, False)
    db.session.rollback()

"""Command-line tasks: ``flask --app portal demo | create-user | send-mail | consumer | privacy purge |
backup | restore``."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import audit
from .extensions import db
from .models import ROLES, User


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only into a database with no users; always print the logins.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Load demo data: a user of every role, partner clinics and upcoming conferences."""
    from .demo import DEMO_LOGINS, load_demo_data

    if current_app.config["ENV"] == "production":
        raise click.ClickException("refusing to load demo accounts in production mode")
    if if_empty and db.session.query(User.id).first() is not None:
        click.echo("The database already has data: demo data not loaded again.")
    else:
        load_demo_data()
        click.echo("Demo data loaded.")
    click.echo("\nDemo logins (e-mail / password):")
    for role, email, password in DEMO_LOGINS:
        click.echo(f"  {role:<8} {email:<28} {password}")


@click.command("create-user")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="Repeat for several roles.")
@click.option("--name", default=None, help="Full name (defaults to the e-mail's local part).")
@click.option("--password", default=None, help="Password; a random one is generated and printed if omitted.")
@with_appcontext
def create_user_command(email: str, roles: tuple[str, ...], name: str | None, password: str | None) -> None:
    """Create an account with the given roles."""
    from .blueprints.auth.services import hash_password

    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    if User.by_email(email):
        raise click.ClickException(f"an account for {email} already exists")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    user = User(email=email, name=name or email.split("@")[0], password_hash=hash_password(password))
    user.set_roles(set(roles))
    db.session.add(user)
    audit.record("account_created", user, actor=None, to_state="active",
                 details={"roles": sorted(roles), "by": "command line"})
    db.session.commit()
    click.echo(f"Created {email} with roles {', '.join(sorted(roles))}.")
    if generated:
        click.echo(f"Password: {password}")


@click.command("send-mail")
@click.option("--limit", default=100, show_default=True, help="At most this many messages per run.")
@with_appcontext
def send_mail_command(limit: int) -> None:
    """Deliver due messages from the outbox (run it from cron every minute or so)."""
    from .mail import deliver_pending

    counts = deliver_pending(limit)
    click.echo(f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}")


@click.command("consumer")
@click.option("--workers", type=int, default=None, help="Worker threads (default: TASK_WORKERS).")
@with_appcontext
def consumer_command(workers: int | None) -> None:
    """Run the background work until stopped (Ctrl-C): e-mail, batches of letters, reminders."""
    from .tasks import consumer_for

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:  # Huey's records; the portal's have their own handler
        handler.addFilter(lambda record: record.name != "portal" and not record.name.startswith("portal."))
    consumer_for(current_app._get_current_object(), workers=workers).run()  # type: ignore[attr-defined]


@click.group("privacy")
def privacy_group() -> None:
    """Personal data past its retention period."""


@privacy_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Print what would be removed, and remove nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Remove passport details, letters' personal copies and import files past their retention
    period (the nightly task does the same)."""
    from . import privacy

    counts = {kind: len(ids) for kind, ids in privacy.due().items()} if dry_run else privacy.purge()
    verb = "would remove" if dry_run else "removed"
    for kind, number in counts.items():
        click.echo(f"{verb} {number:>6}  {privacy.KIND_NAMES.get(kind, kind)}")


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--passphrase", default=None, help="Encrypt the archive with this passphrase (else with "
              "BACKUP_ENCRYPTION_KEY if set).")
@with_appcontext
def backup_command(path: Path, passphrase: str | None) -> None:
    """Write a backup archive to PATH (a file, or a folder for a dated file) while the portal serves."""
    from . import backup

    try:
        result = backup.create_backup(path, passphrase=passphrase)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = result.manifest
    click.echo(f"Backup written: {result.path} ({result.size:,} bytes{', encrypted' if result.encrypted else ''})")
    click.echo(f"  SHA-256 {result.sha256}")
    click.echo(f"  migration {manifest['migration']}, {sum(manifest['tables'].values()):,} rows in "
               f"{len(manifest['tables'])} tables, {len(manifest['members']) - 1} files")
    for missing in result.missing_files:
        click.echo(f"  warning: stored file {missing} was already missing from the uploads folder")
    click.echo("\nThe keys are NOT in the archive, and without them it cannot be read. Keep these "
               "somewhere else than the archive:")
    for place in backup.key_locations():
        click.echo(f"  - {place}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data this instance already holds.")
@click.option("--passphrase", default=None, help="The passphrase the archive was encrypted with.")
@with_appcontext
def restore_command(path: Path, force: bool, passphrase: str | None) -> None:
    """Restore a backup archive into this (empty) instance, migrate it forward and verify it."""
    from . import backup

    try:
        report = backup.restore_backup(path, force=force, passphrase=passphrase)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = report.manifest
    click.echo(f"Restored {path.name}: taken {manifest['created_at']} by portal {manifest['portal_version']}, "
               f"migration {report.migrated_from} -> {report.migrated_to}")
    failed = [check for check in report.checks if not check.ok]
    click.echo(f"  {len(report.checks) - len(failed)} of {len(report.checks)} checks match the manifest")
    for check in failed:
        click.echo(f"  MISMATCH {check.what}: expected {check.expected}, found {check.found}")
    if failed:
        raise click.ClickException("the restored data does not match the backup's manifest (see above)")
    click.echo("Everything matches: row counts, money totals, files, letters and encrypted details.")


def register(app: Flask) -> None:
    from .bench_seed import bench_seed_command

    for command in (demo_command, create_user_command, send_mail_command, consumer_command, bench_seed_command,
                    privacy_group, backup_command, restore_command):
        app.cli.add_command(command)

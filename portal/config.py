"""Configuration: defaults here, then ``instance/config.py``, then the environment.

Environment variables named ``PORTAL_<SETTING>`` override any setting (Flask's
``from_prefixed_env``: values that parse as JSON — numbers, ``true``/``false``, lists — are
taken as such, anything else as text);
``DATABASE_URL`` sets the database. ``create_app(test_config)`` applies a mapping last.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ENV_PREFIX = "PORTAL_"

# Written into the instance folder the first time the portal starts without them.
SECRET_KEY_FILE = "secret_key"
FIELD_KEY_FILE = "field_encryption.key"


class Defaults:
    """Settings every installation starts from."""

    # "development" or "production": production refuses a missing or default secret key
    # and sends cookies only over HTTPS.
    ENV = "development"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    # Which modules run: None means every built-in module and every installed plugin.
    MODULES: list[str] | None = None

    LANGUAGES = ["en", "ru"]
    BABEL_DEFAULT_LOCALE = "en"
    # Where the charity works: when a day begins (portal.clock) and how times are shown.
    TIMEZONE = "Europe/London"

    ORGANISATION_NAME = "Gift of Life"
    # The portal's public address. Every link in an e-mail, letter or calendar file is built
    # from it, never from the request; requests naming another host get 400. Required in
    # production; development defaults to http://127.0.0.1:5000.
    BASE_URL: str | None = None
    DEV_BASE_URL: str | None = None  # `make run` sets it to where it serves; BASE_URL wins when set
    # Other host names the portal answers to (an alias behind the proxy, say).
    ALLOWED_HOSTS: list[str] = []
    BASE_CURRENCY = "GBP"
    # The month the charity's budget year begins: 1 for the calendar year, 4 for April to March.
    FINANCIAL_YEAR_START_MONTH = 1
    # The organisation's signing certificate for letters: a PKCS#12 file (.p12/.pfx) and its
    # passphrase. Required in production (no letter is issued without); development makes a
    # self-signed one in instance/letter-signing.p12. To change keys, point these at the new
    # file: new letters are signed with it, older letters still verify with theirs.
    LETTER_SIGNING_PKCS12: str | None = None
    LETTER_SIGNING_PASSPHRASE: str | None = None
    # An RFC 3161 timestamp authority each signature is timestamped by (optional).
    LETTER_TIMESTAMP_URL: str | None = None
    # "Check a letter" (upload or reference and check code), per address.
    LETTER_CHECK_LIMIT = "20 per minute;200 per day"
    # Backups (portal.backup): where the scheduled ones go (default instance/backups), how many
    # are kept, how often one is taken (0: no schedule), and the age /healthz accepts. With
    # BACKUP_ENCRYPTION_KEY (a Fernet key) every archive is encrypted with it.
    BACKUP_FOLDER: str | None = None
    BACKUP_KEEP = 7
    BACKUP_EVERY_HOURS = 24
    BACKUP_MAX_AGE_HOURS = 48
    BACKUP_ENCRYPTION_KEY: str | None = None
    # /healthz fails when the uploads' disk has less free space than this.
    HEALTH_MIN_FREE_MB = 500
    # Processes that render letters in a batch (donor thanks): one per core by default.
    LETTER_WORKERS = os.cpu_count() or 1

    # Mail: without MAIL_SERVER, messages are written as .eml files to instance/outbox/.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_TIMEOUT = 30
    MAIL_FROM = "Programme Portal <programme@localhost>"
    MAIL_MAX_ATTEMPTS = 5
    MAIL_RETRY_SECONDS = 300  # first retry; doubles with every failed attempt

    # Fernet keys (urlsafe base64), newest first; older keys still decrypt. Default:
    # instance/field_encryption.key, generated on first start.
    FIELD_ENCRYPTION_KEYS: list[str] | None = None

    UPLOAD_FOLDER: str | None = None  # default: instance/uploads
    # Documents are uploaded one at a time, at most 10 MB each; a larger request gets the 413 page.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024 + 64 * 1024

    PASSWORD_RESET_MAX_AGE = 3600
    # argon2id parameters (time_cost, memory_cost, parallelism…); empty: argon2-cffi's defaults.
    PASSWORD_HASH_PARAMS: dict[str, int] = {}

    # Flask-Limiter: use a shared store (redis://, memcached://) when running several workers.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # The shared store down (Redis restarting): each worker counts in memory meanwhile, so the
    # sign-in page still answers, and limits stay in force, per worker, until the store is back.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = "5 per minute"
    LOGIN_LIMIT_PER_ADDRESS = "30 per minute"

    # How many reverse proxies (load balancer, nginx) stand in front and set X-Forwarded-*.
    TRUSTED_PROXIES = 0

    SESSION_COOKIE_SECURE: bool | None = None  # None: True in production, False otherwise
    REMEMBER_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Staff pages served again while nothing has changed (portal.page_cache): each worker keeps
    # its own by default; "RedisCache" with CACHE_REDIS_URL shares them, "NullCache" turns it off.
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 500  # pages per worker
    CACHE_DEFAULT_TIMEOUT = 300  # seconds: how long a change made outside the portal can go unseen
    CACHE_NO_NULL_WARNING = True  # "NullCache" is a choice, not a mistake

    # The task queue (portal.tasks): unset, a SQLite file in the instance folder (instance/tasks.db);
    # "redis://host:6379/0" for consumers on several machines; "immediate" runs each task as it
    # is queued (unit tests of task bodies only).
    TASK_QUEUE_URL: str | None = None
    TASK_QUEUE_NAME = "portal"
    TASK_WORKERS = 2  # threads per consumer: a thanks batch and the mail can run side by side
    TASK_POLL_SECONDS = 1.0  # an idle consumer looks at the queue at least this often
    TASK_PERIODIC_SECONDS = 60  # how often each consumer checks the periodic tasks (sweeps, reminders)
    JOB_STALL_SECONDS = 120  # a job with no progress for this long is queued again (its consumer died)
    THANKS_CHUNK = 20  # donors thanked per transaction in a batch: its progress moves this often

    # Logs: one line per request on the "portal.requests" logger (request id, URL rule, endpoint,
    # status, milliseconds, user id; never the path, query string, form, headers or cookies), on
    # stderr with every other portal.* record: "text" (key=value) or "json" (one object per line).
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    # Unhandled errors reported to Sentry (portal.error_reports) when set, with the request id and
    # the user's id only: nothing of the request's URL, form, headers or cookies.
    SENTRY_DSN: str | None = None


def apply_environment(config: Any, environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Settings from ``PORTAL_*`` variables (Flask's ``from_prefixed_env``: values that parse
    as JSON are taken as such) and ``DATABASE_URL``; ``PORTAL_MODULES`` may be a comma list."""
    config.from_prefixed_env(ENV_PREFIX.rstrip("_"))
    if isinstance(config.get("MODULES"), str):
        config["MODULES"] = [m.strip() for m in config["MODULES"].split(",") if m.strip()]
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])


def normalise_database_url(url: str) -> str:
    """Route PostgreSQL URLs to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _key_from_file(path: Path, make: Any) -> str:
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_instance_secrets(config: dict[str, Any], instance_path: Path) -> None:
    """Fill in the secret key and the field-encryption key from the instance folder.

    Production refuses to invent a secret key: several workers (or machines) must share
    one, so it has to be configured.
    """
    production = config.get("ENV") == "production"
    if not config.get("SECRET_KEY"):
        if production:
            raise RuntimeError(
                "SECRET_KEY is not configured: set PORTAL_SECRET_KEY or SECRET_KEY in "
                "instance/config.py before starting in production mode."
            )
        config["SECRET_KEY"] = _key_from_file(
            instance_path / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48)
        )
    elif production and config["SECRET_KEY"] in {"dev", "change-me", "secret"}:
        raise RuntimeError("SECRET_KEY is a well-known default: refusing to start in production.")
    if not config.get("FIELD_ENCRYPTION_KEYS"):
        config["FIELD_ENCRYPTION_KEYS"] = [
            _key_from_file(instance_path / FIELD_KEY_FILE, lambda: Fernet.generate_key().decode())
        ]


# Flask-Limiter stores that live inside one process: each worker would count on its own.
IN_PROCESS_LIMIT_STORES = {"", "memory", "async+memory"}


def check_rate_limit_storage(config: dict[str, Any]) -> None:
    """Production refuses a rate-limit store that each worker keeps to itself.

    With ``memory://`` every worker (and every machine) counts failed sign-ins alone, so
    "5 per minute" lets through five per worker.
    """
    if config.get("ENV") != "production":
        return
    uri = (config.get("RATELIMIT_STORAGE_URI") or "").strip()
    if uri.partition("://")[0].lower() in IN_PROCESS_LIMIT_STORES:
        raise RuntimeError(
            f"RATELIMIT_STORAGE_URI is {uri or 'not set'}: each worker would count failed sign-ins on its "
            "own, so the login limits would not hold. Set PORTAL_RATELIMIT_STORAGE_URI (or "
            "RATELIMIT_STORAGE_URI in instance/config.py) to a store the workers share, for example "
            "redis://host:6379/0, before starting in production mode."
        )

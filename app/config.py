"""Settings come from the environment; the instance folder holds the embedded defaults."""

import os
import secrets
from pathlib import Path

MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The application refuses to start with settings that would be unsafe."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative.")
    return number


def _months(name: str, default: int) -> int:
    value = os.environ.get(name, str(default)).strip()
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{name} must be a whole number of months (at least 1), not {value!r}.")
    return int(value)


def build_config(instance_path: str) -> dict:
    """Read settings from the environment, falling back to safe development defaults."""
    env = os.environ.get("AKADEMIA_ENV", "development")
    production = env == "production"
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'akademia.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    redis_url = os.environ.get("REDIS_URL")
    log_format = (os.environ.get("LOG_FORMAT") or "").strip().lower() or None
    if log_format not in (None, "json", "text"):
        raise ConfigError("LOG_FORMAT must be json or text.")
    log_level = (os.environ.get("LOG_LEVEL") or "INFO").strip().upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    config = {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance, production),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # hide_parameters: an error's message must not carry the values (e-mails, names)
        # of the statement that failed into the log.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # How long a request waits for a lock held by someone else before the user is asked
        # to try again (HTTP 503): SQLite's busy timeout, PostgreSQL's lock_timeout. An
        # optional PostgreSQL statement_timeout (0: none) bounds any single statement.
        "SQLITE_BUSY_TIMEOUT_MS": int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "10000")),
        "DATABASE_LOCK_TIMEOUT_MS": int(os.environ.get("DATABASE_LOCK_TIMEOUT_MS", "10000")),
        "DATABASE_STATEMENT_TIMEOUT_MS": int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or _bool("SESSION_COOKIE_SECURE"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production or _bool("SESSION_COOKIE_SECURE"),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Belgrade",
        # Redis makes the limits count across every worker and machine; memory counts per
        # process. When Redis is down the limits fall back to memory rather than refuse
        # every sign-in; /readyz reports the outage.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_STORAGE_OPTIONS": (
            {"socket_connect_timeout": 5, "socket_timeout": 5} if redis_url else {}
        ),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": bool(redis_url),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_THROTTLE_FAILURES": int(os.environ.get("LOGIN_THROTTLE_FAILURES", "5")),
        "LOGIN_THROTTLE_MINUTES": int(os.environ.get("LOGIN_THROTTLE_MINUTES", "15")),
        # Two-step sign-in: how long the password step waits for the code, the name shown in
        # authenticator apps, and an optional key for the stored secrets (default: derived
        # from SECRET_KEY; setting it later keeps the old secrets readable).
        "TWO_FACTOR_PENDING_SECONDS": int(os.environ.get("TWO_FACTOR_PENDING_SECONDS", "300")),
        "TOTP_ISSUER": os.environ.get("TOTP_ISSUER", "Akademia"),
        "TOTP_ENCRYPTION_KEY": os.environ.get("TOTP_ENCRYPTION_KEY"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "smtp" if production else "file"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Akademia <no-reply@akademia.local>"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
        "PASSWORD_RESET_MAX_AGE": 3600,
        "EMAIL_CONFIRM_MAX_AGE": 3 * 24 * 3600,
        "CURRICULUM_DIR": os.environ.get(
            "CURRICULUM_DIR", str(Path(__file__).resolve().parent.parent / "curriculum")
        ),
        "PAGE_SIZE": 25,
        # --- Certificates (issue 5) and the task queue ------------------------------------
        # Issued PDFs and bulk bundles; default <instance>/certificates. Several machines
        # sharing the work (REDIS_URL) need this on shared storage.
        "CERT_STORAGE_DIR": os.environ.get("CERT_STORAGE_DIR"),
        # Ed25519 signing key as PEM in the environment; else this file (default
        # <instance>/certificate_signing_key.pem, generated on first use with mode 0600).
        "CERT_SIGNING_KEY": os.environ.get("CERT_SIGNING_KEY"),
        "CERT_SIGNING_KEY_PATH": os.environ.get("CERT_SIGNING_KEY_PATH"),
        # Address printed in QR codes, e.g. https://akademia.example.org (set it in
        # production); default: SERVER_NAME, else the request's host, else 127.0.0.1:5000.
        "CERT_PUBLIC_URL": os.environ.get("CERT_PUBLIC_URL"),
        # The organisation's IATI identifier (e.g. XM-DAC-…), required for IATI XML exports.
        "IATI_REPORTING_ORG_REF": os.environ.get("IATI_REPORTING_ORG_REF"),
        "CERT_ISSUER": os.environ.get("CERT_ISSUER", "Akademia"),
        "CERT_VERIFY_RATE_LIMIT": os.environ.get(
            "CERT_VERIFY_RATE_LIMIT", "30 per minute;300 per hour"
        ),
        # A worker holds a certificate or a bulk job this long before another may take over.
        "CERT_LEASE_SECONDS": int(os.environ.get("CERT_LEASE_SECONDS", "120")),
        "CERT_PDF_VARIANT": os.environ.get("CERT_PDF_VARIANT", "pdf/a-3b"),
        # Run Huey tasks in the calling process (tests do); the queue itself is set by
        # REDIS_URL or HUEY_SQLITE_PATH (default <instance>/huey.sqlite), see app/queue.py.
        "HUEY_IMMEDIATE": _bool("HUEY_IMMEDIATE"),
        # --- end of certificates settings -------------------------------------------------
        # --- Running behind a proxy, logs -------------------------------------------------
        # How many proxies (nginx, a load balancer) set X-Forwarded-For/-Proto/-Host in front
        # of the app; 0 trusts none of these headers (a client could forge its address).
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        # json (default in production) or text (default otherwise); see app/logs.py.
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": log_level,
        # Participants of programmes that ended this many months ago are anonymised by the
        # daily retention task (`flask privacy retention --dry-run` shows who is due).
        # People in a newer programme, and staff accounts, keep their data.
        "RETENTION_MONTHS_AFTER_PROGRAMME": _months("RETENTION_MONTHS_AFTER_PROGRAMME", 60),
    }
    if production:
        check_production(config)
    return config


def check_production(config: dict) -> None:
    key = config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 10:
        raise ConfigError(
            "SECRET_KEY must be set in the environment to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not _bool("ALLOW_SQLITE"):
        raise ConfigError("Set DATABASE_URL to PostgreSQL in production (or ALLOW_SQLITE=1).")
    # Printed in every certificate's QR code: a wrong host cannot be corrected afterwards.
    public_url = config.get("CERT_PUBLIC_URL") or ""
    if not public_url.startswith(("https://", "http://")):
        raise ConfigError(
            "Set CERT_PUBLIC_URL to the address verifiers reach, e.g. https://akademia.example.org "
            "(certificates print it in their QR code)."
        )


def _instance_secret(instance: Path, production: bool) -> str | None:
    """Development keeps a generated key in the instance folder; production must supply one."""
    if production:
        return None
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key

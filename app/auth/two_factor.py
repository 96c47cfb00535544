"""Two-step sign-in with a time-based code (TOTP, RFC 6238) and single-use recovery codes.

The shared secret is kept encrypted (Fernet) with a key derived from TOTP_ENCRYPTION_KEY or,
without it, from SECRET_KEY: a copy of the database alone (a backup, a leaked dump) is then
not enough to produce codes. Recovery codes are random and long, so, like session tokens,
a SHA-256 hash is enough to store them; a slow password hash would only slow every check.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import pyotp
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import DomainError, NotAllowed
from app.extensions import db
from app.text import normalize_email

from . import passwords, services, sessions
from .models import RecoveryCode, User

STEP_SECONDS = 30
DIGITS = 6
# Codes from the step before and after the current one are accepted: phone clocks drift.
WINDOW = 1
RECOVERY_CODE_COUNT = 10
# No 0/o and 1/l, so a code copied from paper is read back right; 32 letters = 5 bits each.
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10


class WrongCode(DomainError):
    pass


class SecretUnreadable(DomainError):
    pass


# --- the secret -----------------------------------------------------------------------------


def _fernet_key(material: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"akademia totp secret"
    ).derive(material.encode())
    return base64.urlsafe_b64encode(derived)


def _cipher() -> MultiFernet:
    config = current_app.config
    keys = [config["SECRET_KEY"]]
    if config.get("TOTP_ENCRYPTION_KEY"):
        # The dedicated key encrypts; SECRET_KEY still decrypts what was stored before it was set.
        keys.insert(0, config["TOTP_ENCRYPTION_KEY"])
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def _encrypt(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def _decrypt(stored: str) -> str:
    try:
        return _cipher().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            _(
                "Your two-step sign-in cannot be checked because the server's key has changed. "
                "Ask an administrator to reset it."
            )
        ) from exc


def _step(now: datetime) -> int:
    """The 30-second step of a time; naive times are UTC, as everywhere in the app."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return int(now.timestamp()) // STEP_SECONDS


def _clean(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


# --- set-up ---------------------------------------------------------------------------------


def begin_setup(user: User) -> tuple[str, bool]:
    """The secret being set up (a new one unless a set-up is under way); True when new."""
    if user.two_factor_enabled:
        raise NotAllowed(_("Two-step sign-in is already on."))
    if user.totp_secret:
        try:
            return _decrypt(user.totp_secret), False
        except SecretUnreadable:
            pass
    secret = pyotp.random_base32()
    user.totp_secret = _encrypt(secret)
    user.totp_last_step = None
    return secret, True


def provisioning_uri(user: User, secret: str) -> str:
    issuer = current_app.config.get("TOTP_ISSUER") or "Akademia"
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=issuer
    )


def qr_svg(uri: str) -> Markup:
    """The URI as an inline SVG QR code; built here from our own data, so safe to insert."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=_("QR code for the authenticator app")
    )
    return Markup(svg)  # noqa: S704 - segno writes only paths and escapes the title


def confirm_setup(*, user: User, code: str, now: datetime, ip_address: str | None) -> list[str]:
    """Turn two-step sign-in on once a code from the new secret is right; returns the
    recovery codes, which are never shown again."""
    if user.two_factor_enabled:
        raise NotAllowed(_("Two-step sign-in is already on."))
    if not user.totp_secret:
        raise DomainError(_("Start the set-up again."), field="code")
    _check_totp_or_fail(user, code, now=now, ip_address=ip_address)
    user.totp_enabled_at = now.replace(tzinfo=None)
    return _replace_recovery_codes(user, now)


def _replace_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c), created_at=now) for c in codes
    )
    db.session.flush()
    return codes


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


# --- checking codes -------------------------------------------------------------------------


def _accept_totp(user: User, code: str, now: datetime) -> bool:
    code = _clean(code)
    if len(code) != DIGITS or not code.isdigit() or not user.totp_secret:
        return False
    totp = pyotp.TOTP(_decrypt(user.totp_secret), digits=DIGITS, interval=STEP_SECONDS)
    current = _step(now)
    matched = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    if matched is None:
        return False
    # A conditional update, so two requests racing with the same code cannot both pass.
    accepted = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < matched),
        )
        .values(totp_last_step=matched)
        .execution_options(synchronize_session=False)
    ).rowcount
    if accepted:
        set_committed_value(user, "totp_last_step", matched)
    return bool(accepted)


def _accept_recovery(user: User, code: str, now: datetime) -> bool:
    if len(_clean(code)) != _RECOVERY_LENGTH:
        return False
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now.replace(tzinfo=None))
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(used)


def _fail(user: User, ip_address: str | None) -> None:
    services.record_failure(normalize_email(user.email) or "", ip_address)
    raise WrongCode(
        _("The code is not right, or it was used already. Wait for the next one."), field="code"
    )


def _check_totp_or_fail(user: User, code: str, *, now: datetime, ip_address: str | None):
    # Wrong codes count against the account like wrong passwords, under the same lockout.
    services.check_throttle(normalize_email(user.email) or "")
    if not _accept_totp(user, code, now):
        _fail(user, ip_address)


def _check_any_or_fail(user: User, code: str, *, now: datetime, ip_address: str | None) -> str:
    services.check_throttle(normalize_email(user.email) or "")
    if _accept_totp(user, code, now):
        return "app"
    if _accept_recovery(user, code, now):
        return "recovery"
    _fail(user, ip_address)


def complete_sign_in(*, user: User, code: str, now: datetime, ip_address: str | None) -> str:
    """Second step of signing in: a code from the app or an unused recovery code.

    Returns "app" or "recovery"; raises WrongCode (counted as a failed sign-in) or Throttled.
    """
    if not user.two_factor_enabled:
        raise NotAllowed(_("Two-step sign-in is not on for this account."))
    method = _check_any_or_fail(user, code, now=now, ip_address=ip_address)
    services.record_sign_in(user)
    return method


def regenerate_recovery_codes(
    *, user: User, code: str, now: datetime, ip_address: str | None
) -> list[str]:
    """New recovery codes for a code from the app; the old ones stop working."""
    if not user.two_factor_enabled:
        raise NotAllowed(_("Two-step sign-in is not on for this account."))
    _check_totp_or_fail(user, code, now=now, ip_address=ip_address)
    return _replace_recovery_codes(user, now)


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable(*, user: User, password: str, code: str, now: datetime, ip_address: str | None) -> None:
    """Turn two-step sign-in off with the password and a code; not for roles that need it."""
    if user.two_factor_required:
        raise NotAllowed(
            _("Your role requires two-step sign-in, so it cannot be turned off."), field="code"
        )
    if not user.two_factor_enabled:
        raise NotAllowed(_("Two-step sign-in is not on for this account."))
    services.check_throttle(normalize_email(user.email) or "")
    if not passwords.verify_password(user.password_hash, password):
        services.record_failure(normalize_email(user.email) or "", ip_address)
        raise DomainError(_("Your password is not right."), field="password")
    _check_any_or_fail(user, code, now=now, ip_address=ip_address)
    _clear(user)
    db.session.flush()


def reset(*, user: User, by: User | None) -> int:
    """An administrator removes someone's second factor (a lost phone): they set it up again
    at their next sign-in if their role needs it, and are signed out everywhere now.
    by=None is the command line, the way back in when no administrator can sign in.
    Returns how many sessions ended."""
    if by is not None and user.id == by.id:
        raise NotAllowed(
            _("You cannot reset your own two-step sign-in here. Ask another administrator.")
        )
    _clear(user)
    ended = sessions.end_other_sessions(user, keep_token=None)
    db.session.flush()
    return ended

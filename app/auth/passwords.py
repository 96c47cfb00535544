"""Password hashing (Argon2id) and the password policy."""

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from zxcvbn import zxcvbn

from app.errors import DomainError

MIN_LENGTH = 12
# Argon2 hashes the whole input, so nothing is silently truncated; the ceiling only stops
# someone from making the server hash megabytes.
MAX_LENGTH = 256
# zxcvbn scores 0–4; below 3 means a dictionary word, a keyboard walk or a known leaked password.
MIN_SCORE = 3

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps timing equal for both answers.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


class WeakPassword(DomainError):
    pass


def check_policy(password: str, user_inputs: list[str] | None = None) -> None:
    """Raise WeakPassword with advice when the password does not meet the policy."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(_("Use at least %(n)d characters.", n=MIN_LENGTH), field="password")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(_("Use at most %(n)d characters.", n=MAX_LENGTH), field="password")
    inputs = [v for v in (user_inputs or []) if v]
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        raise WeakPassword(
            _(
                "This password is too common or too easy to guess. "
                "Try a few unrelated words together."
            ),
            field="password",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)

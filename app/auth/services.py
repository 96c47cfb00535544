"""Accounts: registration, sign-in with throttling, e-mail tokens, password changes."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app import audit
from app.errors import DomainError
from app.extensions import db
from app.people.models import Person
from app.text import normalize_email
from app.timeutil import utcnow

from . import passwords, sessions
from .models import LoginFailure, User, UserRole
from .roles import Role


class SignInFailed(DomainError):
    """One message for unknown e-mail and wrong password, so accounts cannot be discovered."""

    def __init__(self):
        super().__init__(_("The e-mail or password is not right."))


class Throttled(DomainError):
    pass


class EmailNotConfirmed(DomainError):
    pass


class BadToken(DomainError):
    pass


@dataclass
class Registration:
    """What sign-up found, so the view can send the right e-mail with the same on-screen answer."""

    outcome: str  # "created", "claim" (person known, no account) or "exists"
    person: Person
    user: User | None


def find_user_by_email(email: str) -> User | None:
    key = normalize_email(email)
    if not key:
        return None
    return db.session.scalar(sa.select(User).join(User.person).where(Person.email == key))


def register_learner(
    *, first_name: str, last_name: str, email: str, password: str, locale: str | None
) -> Registration:
    """Create a learner account awaiting e-mail confirmation, unless the address is known."""
    email = normalize_email(email)
    passwords.check_policy(password, [first_name, last_name, email])
    person = db.session.scalar(sa.select(Person).where(Person.email == email))
    if person is not None:
        user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
        return Registration("exists" if user else "claim", person, user)
    person = Person(first_name=first_name.strip(), last_name=last_name.strip(), email=email)
    user = User(person=person, password_hash=passwords.hash_password(password), locale=locale)
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.flush()
    audit.record_role("role.grant", user=user, role=Role.LEARNER, by=None)  # self-registered
    return Registration("created", person, user)


def check_throttle(email_key: str) -> None:
    """Raise Throttled while the account has too many recent failed sign-in steps."""
    config = current_app.config
    window_start = utcnow() - timedelta(minutes=config["LOGIN_THROTTLE_MINUTES"])
    recent_failures = db.session.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(
            LoginFailure.email_key == email_key, LoginFailure.at >= window_start
        )
    )
    if recent_failures >= config["LOGIN_THROTTLE_FAILURES"]:
        raise Throttled(
            _(
                "Too many failed attempts for this account. Wait %(n)d minutes or reset your password.",
                n=config["LOGIN_THROTTLE_MINUTES"],
            )
        )


def record_failure(email_key: str, ip_address: str | None) -> None:
    db.session.add(LoginFailure(email_key=email_key[:254], ip_address=ip_address))


def record_sign_in(user: User) -> None:
    """The sign-in is complete: forget the account's failures and note the time."""
    key = normalize_email(user.email) or ""
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.email_key == key))
    user.last_login_at = utcnow()


def authenticate(*, email: str, password: str, ip_address: str | None) -> User:
    """Return the user for these credentials, or raise; failures count against the account.

    For an account with two-step sign-in this is only the first step: its failures stay
    counted until the code is right too, so a known password cannot reset the code guesses.
    """
    key = normalize_email(email) or ""
    check_throttle(key)
    user = find_user_by_email(key)
    if not passwords.verify_password(user.password_hash if user else None, password) or (
        user is not None and not user.active
    ):
        record_failure(key, ip_address)
        raise SignInFailed()
    if user.email_confirmed_at is None:
        raise EmailNotConfirmed(
            _("Please confirm your e-mail address first: we sent you a link when you signed up.")
        )
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if not user.two_factor_enabled:
        record_sign_in(user)
    return user


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(user: User | None) -> str:
    # Ties a token to the current password, so it stops working once the password changes.
    source = (user.password_hash or "") if user else "no-account"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def make_password_token(person: Person, user: User | None) -> str:
    return _serializer("password-reset").dumps({"p": person.id, "f": _fingerprint(user)})


def make_confirm_token(user: User) -> str:
    return _serializer("confirm-email").dumps({"u": user.id})


def request_password_reset(email: str) -> tuple[Person, User | None] | None:
    """Find who a reset link should go to; None when the address is unknown (say nothing)."""
    key = normalize_email(email)
    if not key:
        return None
    person = db.session.scalar(sa.select(Person).where(Person.email == key))
    if person is None:
        return None
    user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
    return person, user


def _load_password_token(token: str) -> tuple[Person, User | None]:
    try:
        data = _serializer("password-reset").loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except SignatureExpired as exc:
        raise BadToken(_("This link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise BadToken(_("This link is not valid. Ask for a new one.")) from exc
    person = db.session.get(Person, data.get("p"))
    if person is None:
        raise BadToken(_("This link is not valid. Ask for a new one."))
    user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
    if data.get("f") != _fingerprint(user):
        raise BadToken(_("This link has already been used. Ask for a new one."))
    return person, user


def check_password_token(token: str) -> Person:
    return _load_password_token(token)[0]


def reset_password(*, token: str, new_password: str) -> User:
    """Set a new password from an e-mailed link (creating the account for a known person)."""
    person, user = _load_password_token(token)
    passwords.check_policy(new_password, [person.first_name, person.last_name, person.email])
    created = user is None
    if created:
        user = User(person=person)
        user.role_rows.append(UserRole(role=Role.LEARNER))
        db.session.add(user)
    user.password_hash = passwords.hash_password(new_password)
    # Whoever received the link controls the mailbox, so the address is confirmed.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.flush()
    if created:
        audit.record_role("role.grant", user=user, role=Role.LEARNER, by=None)
    sessions.end_other_sessions(user, keep_token=None)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.email_key == person.email))
    return user


def confirm_email(token: str) -> User:
    try:
        data = _serializer("confirm-email").loads(
            token, max_age=current_app.config["EMAIL_CONFIRM_MAX_AGE"]
        )
    except (SignatureExpired, BadSignature) as exc:
        raise BadToken(_("This confirmation link is not valid or has expired.")) from exc
    user = db.session.get(User, data.get("u"))
    if user is None:
        raise BadToken(_("This confirmation link is not valid or has expired."))
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    return user


def change_password(
    *, user: User, current_password: str, new_password: str, keep_token: str | None
) -> int:
    """Change the password and sign out every other browser; returns how many were signed out."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise DomainError(_("Your current password is not right."), field="current_password")
    passwords.check_policy(
        new_password, [user.person.first_name, user.person.last_name, user.email]
    )
    user.password_hash = passwords.hash_password(new_password)
    return sessions.end_other_sessions(user, keep_token=keep_token)

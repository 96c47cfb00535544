"""Server-side sign-in sessions: the cookie holds a random token whose hash is a row here."""

import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.timeutil import utcnow

from .models import User, UserSession

# Recording last_seen on every request would turn each page view into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=5)


def load_user_from_session(token: str) -> User | None:
    if not token:
        return None
    row = db.session.scalar(
        sa.select(UserSession).where(UserSession.token_hash == UserSession.hash_token(token))
    )
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if now - row.last_seen_at > LAST_SEEN_GRANULARITY:
        db.session.execute(
            sa.update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
    user = row.user
    user.session_token = token
    return user


def start_session(user: User, *, ip_address: str | None, user_agent: str | None) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=UserSession.hash_token(token),
            user_id=user.id,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:200],
        )
    )
    user.session_token = token
    return token


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            sa.delete(UserSession).where(UserSession.token_hash == UserSession.hash_token(token))
        )


def end_other_sessions(user: User, keep_token: str | None) -> int:
    query = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        query = query.where(UserSession.token_hash != UserSession.hash_token(keep_token))
    return db.session.execute(query).rowcount


def user_sessions(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user.id)
            .order_by(UserSession.last_seen_at.desc())
        )
    )

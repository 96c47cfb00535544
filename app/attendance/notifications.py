"""In-app notifications of a person: reads and the one change (mark as read)."""

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db

from .models import Notification


def notifications_query(person_id: int) -> sa.Select:
    """Newest first."""
    return (
        sa.select(Notification)
        .where(Notification.person_id == person_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def unread_count(person_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.person_id == person_id, Notification.read_at.is_(None)
        )
    )


def mark_all_read(*, person_id: int, now: datetime) -> int:
    """Mark every unread notification of the person as read; returns how many."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.person_id == person_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    return result.rowcount

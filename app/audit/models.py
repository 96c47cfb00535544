"""One row per audited change. Ids and non-personal values only, so the trail survives erasure."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.timeutil import utcnow


class AuditEvent(db.Model):
    """Who did what to which record, when, with the values before and after.

    No foreign keys on purpose: the trail must outlive the rows it mentions (an erased person,
    a deleted account or programme), and must never block their deletion. Names are joined
    from the current person and user rows when the trail is read, never copied here.
    """

    __table_args__ = (sa.Index("ix_audit_event_subject", "subject_type", "subject_id"),)

    id: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    # None: the system did it (a queue job, a deadline, a command-line task).
    actor_id: so.Mapped[int | None] = so.mapped_column(index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(30))
    subject_id: so.Mapped[int | None] = so.mapped_column()
    # The person the change is about (the learner, the account holder), for searching by name.
    person_id: so.Mapped[int | None] = so.mapped_column(index=True)
    run_id: so.Mapped[int | None] = so.mapped_column(index=True)
    programme_id: so.Mapped[int | None] = so.mapped_column(index=True)
    before: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    after: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    request_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))

"""The record of every erasure: who asked for it, when, why, whose data."""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db, str_enum
from app.timeutil import utcnow


class ErasureKind(enum.StrEnum):
    REQUEST = "request"  # the person asked; an administrator carried it out
    RETENTION = "retention"  # their programmes ended longer ago than the retention period


class ErasureRequest(db.Model):
    """Holds ids and the reason only: the person's row is anonymised in the same transaction."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    kind: so.Mapped[ErasureKind] = so.mapped_column(str_enum(ErasureKind, 20))
    # None for retention, which the scheduler runs.
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    erased_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

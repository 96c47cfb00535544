from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db, str_enum
from app.people.models import Person
from app.timeutil import utcnow


class Programme(db.Model):
    """A donor-funded grant: its own donor, period, members and participants."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    donor: so.Mapped[str] = so.mapped_column(sa.String(200))
    grant_code: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)
    starts_on: so.Mapped[date] = so.mapped_column()
    ends_on: so.Mapped[date] = so.mapped_column()
    # Share of a course's sessions a person must attend to count as trained.
    attendance_threshold: so.Mapped[int] = so.mapped_column(default=80)
    # The activity's identifier in IATI ("<reporting org ref>-<own id>"), for the XML export.
    iati_identifier: so.Mapped[str | None] = so.mapped_column(sa.String(150))
    # Breakdown cells counting fewer people are hidden in reports marked public.
    min_public_cell: so.Mapped[int] = so.mapped_column(default=5)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    periods: so.Mapped[list["ReportingPeriod"]] = so.relationship(
        back_populates="programme",
        cascade="all, delete-orphan",
        order_by="ReportingPeriod.starts_on",
    )
    members: so.Mapped[list["ProgrammeMember"]] = so.relationship(
        back_populates="programme", cascade="all, delete-orphan"
    )


class ReportingPeriod(db.Model):
    __table_args__ = (sa.UniqueConstraint("programme_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    starts_on: so.Mapped[date] = so.mapped_column()
    ends_on: so.Mapped[date] = so.mapped_column()

    programme: so.Mapped[Programme] = so.relationship(back_populates="periods")


class ProgrammeMember(db.Model):
    """Scopes a manager or trainer to a programme."""

    __table_args__ = (sa.UniqueConstraint("programme_id", "user_id", "role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    role: so.Mapped[Role] = so.mapped_column(str_enum(Role, 20))

    programme: so.Mapped[Programme] = so.relationship(back_populates="members")
    user: so.Mapped[User] = so.relationship()


class ProgrammeParticipant(db.Model):
    """A person taking part in a programme (imported, enrolled or registered)."""

    __table_args__ = (sa.UniqueConstraint("programme_id", "person_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    person_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    added_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    programme: so.Mapped[Programme] = so.relationship()
    person: so.Mapped[Person] = so.relationship()

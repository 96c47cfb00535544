"""Sessions of course runs and who attended them."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.courses.models import CourseRun
from app.extensions import db, str_enum
from app.people.models import Person
from app.places.models import Municipality
from app.timeutil import utcnow


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"


ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: _l("Present"),
    AttendanceStatus.LATE: _l("Late"),
    AttendanceStatus.EXCUSED: _l("Excused"),
    AttendanceStatus.ABSENT: _l("Absent"),
}

# Statuses that count as attending for rates and donor reports.
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class Channel(enum.StrEnum):
    """How a mark reached the server."""

    ROLL_CALL = "roll_call"
    QR = "qr"
    OFFLINE_SYNC = "offline_sync"
    IMPORT = "import"


class CourseSession(db.Model):
    """One meeting of a course run; times are naive UTC, shown in Europe/Belgrade."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_run.id", ondelete="CASCADE"), index=True
    )
    starts_at: so.Mapped[datetime] = so.mapped_column(index=True)
    ends_at: so.Mapped[datetime] = so.mapped_column()
    venue: so.Mapped[str] = so.mapped_column(sa.String(200))
    municipality_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("municipality.id"))
    trainer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    status: so.Mapped[SessionStatus] = so.mapped_column(
        str_enum(SessionStatus), default=SessionStatus.SCHEDULED
    )
    # Sessions created together as a repeating series share this key.
    series_key: so.Mapped[str | None] = so.mapped_column(sa.String(32), index=True)
    # iCalendar SEQUENCE: raised on every move or cancellation so calendar clients update.
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    # Key for the rotating QR check-in tokens of this session only.
    qr_secret: so.Mapped[str] = so.mapped_column(
        sa.String(64), default=lambda: secrets.token_hex(32)
    )
    note: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    run: so.Mapped[CourseRun] = so.relationship()
    municipality: so.Mapped[Municipality] = so.relationship()
    trainer: so.Mapped[User | None] = so.relationship()

    @property
    def cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED


class Attendance(db.Model):
    """One row per (session, person): the current mark, written by upsert."""

    __table_args__ = (sa.UniqueConstraint("session_id", "person_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_session.id", ondelete="CASCADE"), index=True
    )
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    status: so.Mapped[AttendanceStatus] = so.mapped_column(str_enum(AttendanceStatus))
    remark: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    # When the mark was made on the device (offline marks arrive later); decides conflicts.
    marked_at: so.Mapped[datetime] = so.mapped_column()
    received_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    marked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    channel: so.Mapped[Channel] = so.mapped_column(str_enum(Channel))
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64))

    session: so.Mapped[CourseSession] = so.relationship()
    person: so.Mapped[Person] = so.relationship()
    marked_by: so.Mapped[User | None] = so.relationship()


class AttendanceMark(db.Model):
    """Every mark ever received, kept as history; client_id makes replays harmless."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    session_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_session.id", ondelete="CASCADE"), index=True
    )
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    status: so.Mapped[AttendanceStatus] = so.mapped_column(str_enum(AttendanceStatus))
    remark: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    marked_at: so.Mapped[datetime] = so.mapped_column()
    received_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    marked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    channel: so.Mapped[Channel] = so.mapped_column(str_enum(Channel))
    # False when a later mark (by device time) already stood: this one lost the conflict.
    applied: so.Mapped[bool] = so.mapped_column(default=True)

    marked_by: so.Mapped[User | None] = so.relationship()


class Notification(db.Model):
    """A message shown to a person in the app (session moved or cancelled, …)."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    message: so.Mapped[str] = so.mapped_column(sa.String(500))
    link: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    read_at: so.Mapped[datetime | None] = so.mapped_column()

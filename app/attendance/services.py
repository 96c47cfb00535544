"""Scheduling sessions and recording attendance: idempotent, conflict-safe marks."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from sqlalchemy.dialects import postgresql, sqlite

from app import audit, progress
from app.auth.models import User
from app.courses.models import CourseRun
from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Person
from app.programmes.services import add_participant
from app.timeutil import utcnow

from .models import (
    Attendance,
    AttendanceMark,
    AttendanceStatus,
    Channel,
    CourseSession,
    Notification,
    SessionStatus,
)

MAX_SERIES = 60


def _check_times(run: CourseRun, starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise DomainError(_("A session must end after it starts."), field="ends_at")
    if ends_at - starts_at > timedelta(hours=12):
        raise DomainError(_("A session cannot last more than 12 hours."), field="ends_at")
    programme = run.programme
    if not (
        programme.starts_on <= starts_at.date()
        and ends_at.date() <= programme.ends_on + timedelta(days=1)
    ):
        raise DomainError(
            _("Sessions must take place within the programme's dates."), field="starts_at"
        )


def schedule_session(
    *,
    run: CourseRun,
    starts_at: datetime,
    ends_at: datetime,
    venue: str,
    municipality_id: int,
    trainer_id: int | None,
    series_key: str | None = None,
) -> CourseSession:
    """Add one session to a run (times in naive UTC)."""
    _check_times(run, starts_at, ends_at)
    session = CourseSession(
        run=run,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=venue.strip(),
        municipality_id=municipality_id,
        trainer_id=trainer_id,
        series_key=series_key,
    )
    db.session.add(session)
    db.session.flush()
    return session


def _local_step(at: datetime, step: timedelta) -> datetime:
    # Steps in wall-clock time, so a weekly 10:00 stays at 10:00 when summer time ends.
    local = to_user_timezone(at).replace(tzinfo=None) + step
    return to_utc(local)


def schedule_series(
    *,
    run: CourseRun,
    first_starts_at: datetime,
    first_ends_at: datetime,
    count: int,
    every_days: int,
    venue: str,
    municipality_id: int,
    trainer_id: int | None,
) -> list[CourseSession]:
    """A repeating series: `count` sessions, `every_days` apart (1 daily, 7 weekly)."""
    if not 1 <= count <= MAX_SERIES:
        raise DomainError(
            _("A series has between 1 and %(n)d sessions.", n=MAX_SERIES), field="count"
        )
    if not 1 <= every_days <= 31:
        raise DomainError(_("Repeat every 1 to 31 days."), field="every_days")
    key = secrets.token_hex(8)
    step = timedelta(days=every_days)
    return [
        schedule_session(
            run=run,
            starts_at=_local_step(first_starts_at, i * step),
            ends_at=_local_step(first_ends_at, i * step),
            venue=venue,
            municipality_id=municipality_id,
            trainer_id=trainer_id,
            series_key=key,
        )
        for i in range(count)
    ]


def _notify_learners(session: CourseSession, message: str, link: str | None) -> int:
    person_ids = db.session.scalars(
        sa.select(Enrollment.person_id).where(
            Enrollment.run_id == session.run_id, Enrollment.status == EnrollmentStatus.ENROLLED
        )
    ).all()
    db.session.add_all(
        Notification(person_id=pid, message=message[:500], link=link) for pid in person_ids
    )
    return len(person_ids)


def move_session(
    *,
    session: CourseSession,
    starts_at: datetime,
    ends_at: datetime,
    venue: str,
    municipality_id: int,
    trainer_id: int | None,
    message: str,
    link: str | None = None,
) -> int:
    """Change time or place; enrolled learners are notified. Returns how many were told."""
    if session.cancelled:
        raise DomainError(_("This session is cancelled; schedule a new one instead."))
    _check_times(session.run, starts_at, ends_at)
    session.starts_at, session.ends_at = starts_at, ends_at
    session.venue, session.municipality_id, session.trainer_id = (
        venue.strip(),
        municipality_id,
        trainer_id,
    )
    session.sequence += 1
    db.session.flush()
    return _notify_learners(session, message, link)


def cancel_session(*, session: CourseSession, message: str, link: str | None = None) -> int:
    if session.cancelled:
        raise DomainError(_("This session is already cancelled."))
    session.status = SessionStatus.CANCELLED
    session.sequence += 1
    db.session.flush()
    return _notify_learners(session, message, link)


@dataclass
class MarkResult:
    """What happened to one mark, for the roll-call page and the offline sync."""

    client_id: str
    person_id: int
    status: str  # the status that now stands
    marked_at: datetime
    marked_by: str | None
    applied: bool  # this mark is the one that stands
    duplicate: bool  # the same client_id was received before

    def as_json(self) -> dict:
        return {
            "client_id": self.client_id,
            "person_id": self.person_id,
            "status": self.status,
            "marked_at": self.marked_at.isoformat() + "Z",
            "marked_by": self.marked_by,
            "applied": self.applied,
            "duplicate": self.duplicate,
        }


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def enrolled_person_ids(run_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Enrollment.person_id).where(
                Enrollment.run_id == run_id, Enrollment.status == EnrollmentStatus.ENROLLED
            )
        )
    )


def record_mark(
    *,
    session: CourseSession,
    person_id: int,
    status: AttendanceStatus,
    remark: str | None,
    marked_at: datetime | None,
    by: User | None,
    channel: Channel,
    client_id: str | None = None,
    now: datetime | None = None,
) -> MarkResult:
    """Record one mark exactly once.

    The rule for conflicts: the mark made last on its device (marked_at) stands, whichever
    arrives last; an equal time lets the later arrival stand. Every mark is kept in
    attendance_mark, the losing ones with applied = false, so the trainer can be shown them.
    """
    now = now or utcnow()
    client_id = (client_id or secrets.token_hex(16))[:64]
    if session.cancelled:
        raise DomainError(_("This session is cancelled."))
    # One query checks the enrolment and reads the mark that stands, for the audit trail's
    # "before" (two marks of one learner racing on PostgreSQL may both read the same one).
    enrolled = db.session.execute(
        sa.select(Enrollment.id, Attendance.status)
        .outerjoin(
            Attendance,
            sa.and_(
                Attendance.session_id == session.id,
                Attendance.person_id == Enrollment.person_id,
            ),
        )
        .where(
            Enrollment.run_id == session.run_id,
            Enrollment.person_id == person_id,
            Enrollment.status == EnrollmentStatus.ENROLLED,
        )
    ).first()
    if enrolled is None:
        raise DomainError(_("This person is not enrolled in the course."))
    standing_status = enrolled.status
    # A device clock may be wrong; a mark claiming to come from the future counts as made now.
    when = min(marked_at or now, now)
    remark = (remark or "").strip()[:300] or None

    # RETURNING, not rowcount: drivers disagree on rowcount for INSERT … ON CONFLICT.
    inserted = db.session.execute(
        _insert(AttendanceMark)
        .values(
            client_id=client_id,
            session_id=session.id,
            person_id=person_id,
            status=status,
            remark=remark,
            marked_at=when,
            received_at=now,
            marked_by_id=by.id if by else None,
            channel=channel,
            applied=True,
        )
        .on_conflict_do_nothing(index_elements=["client_id"])
        .returning(AttendanceMark.id)
    ).first()
    if inserted is None:
        return _standing(session.id, person_id, client_id, applied=None, duplicate=True)

    table = Attendance.__table__
    statement = _insert(Attendance).values(
        session_id=session.id,
        person_id=person_id,
        status=status,
        remark=remark,
        marked_at=when,
        received_at=now,
        marked_by_id=by.id if by else None,
        channel=channel,
        client_id=client_id,
    )
    excluded = statement.excluded
    updated = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["session_id", "person_id"],
            set_={
                c: excluded[c]
                for c in (
                    "status",
                    "remark",
                    "marked_at",
                    "received_at",
                    "marked_by_id",
                    "channel",
                    "client_id",
                )
            },
            where=table.c.marked_at <= excluded.marked_at,
        ).returning(Attendance.id)
    ).first()
    if updated is None:
        db.session.execute(
            sa.update(AttendanceMark)
            .where(AttendanceMark.client_id == client_id)
            .values(applied=False)
        )
    session_id = session.id  # read before expire_all(), which would reload the session for it
    audit.record(
        "attendance.mark",
        subject_type="session",
        subject_id=session_id,
        actor=by,
        person_id=person_id,
        run_id=session.run_id,
        before={"status": standing_status},
        after={"status": status, "channel": channel}
        # A mark that lost to a later one (by device time) is kept, but changed nothing.
        | ({} if updated is not None else {"applied": False}),
    )
    if updated is not None:
        progress.changed(session.run_id)
    db.session.expire_all()
    return _standing(session_id, person_id, client_id, applied=updated is not None, duplicate=False)


def _standing(
    session_id: int, person_id: int, client_id: str, applied, duplicate: bool
) -> MarkResult:
    row = db.session.execute(
        sa.select(Attendance, Person.first_name, Person.last_name)
        .outerjoin(User, User.id == Attendance.marked_by_id)
        .outerjoin(Person, Person.id == User.person_id)
        .where(Attendance.session_id == session_id, Attendance.person_id == person_id)
    ).one()
    attendance, first, last = row
    if applied is None:
        applied = attendance.client_id == client_id
    return MarkResult(
        client_id=client_id,
        person_id=person_id,
        status=str(attendance.status),
        marked_at=attendance.marked_at,
        marked_by=f"{first} {last}" if first else None,
        applied=applied,
        duplicate=duplicate,
    )


def mark_all_present(*, session: CourseSession, by: User, now: datetime | None = None) -> int:
    """Mark every enrolled learner without a mark yet as present; existing marks are kept."""
    now = now or utcnow()
    marked = set(
        db.session.scalars(
            sa.select(Attendance.person_id).where(Attendance.session_id == session.id)
        )
    )
    count = 0
    for person_id in sorted(enrolled_person_ids(session.run_id) - marked):
        record_mark(
            session=session,
            person_id=person_id,
            status=AttendanceStatus.PRESENT,
            remark=None,
            marked_at=now,
            by=by,
            channel=Channel.ROLL_CALL,
            now=now,
        )
        count += 1
    return count


def add_walk_in(
    *, session: CourseSession, person: Person, by: User, now: datetime | None = None
) -> Enrollment:
    """Someone who came without enrolling: enrolled on the spot, whatever the seat count."""
    now = now or utcnow()
    run = session.run
    enrollment = db.session.scalar(
        sa.select(Enrollment).where(Enrollment.run_id == run.id, Enrollment.person_id == person.id)
    )
    if enrollment is not None and enrollment.status == EnrollmentStatus.ENROLLED:
        raise Conflict(_("%(name)s is already on the roster.", name=person.full_name))
    if enrollment is None:
        enrollment = Enrollment(run=run, person=person, requested_at=now)
        db.session.add(enrollment)
    enrollment.status = EnrollmentStatus.ENROLLED
    enrollment.source = EnrollmentSource.WALK_IN
    # Counted from this session on, so earlier sessions do not count as absences.
    enrollment.enrolled_at = min(now, session.starts_at)
    enrollment.status_changed_at = now
    enrollment.changed_by_id = by.id
    add_participant(programme_id=run.programme_id, person=person)
    db.session.flush()
    return enrollment


# QR self check-in ------------------------------------------------------------------------

QR_PERIOD_SECONDS = 10


def qr_token(session: CourseSession, at: datetime) -> str:
    """The token shown on the trainer's screen at a moment; it changes every few seconds."""
    window = int(at.timestamp()) // QR_PERIOD_SECONDS
    digest = hmac.new(session.qr_secret.encode(), f"{session.id}:{window}".encode(), hashlib.sha256)
    return digest.hexdigest()[:20]


def qr_token_valid(session: CourseSession, token: str, at: datetime) -> bool:
    # The current and the previous window: a scan takes a moment to travel.
    candidates = (
        qr_token(session, at),
        qr_token(session, at - timedelta(seconds=QR_PERIOD_SECONDS)),
    )
    return any(hmac.compare_digest(token or "", c) for c in candidates)


def check_in(
    *,
    session: CourseSession,
    person: Person,
    token: str,
    now: datetime,
    grace: timedelta,
    late_after: timedelta,
    by: User,
) -> MarkResult:
    """A learner scanned the session's QR code."""
    if session.cancelled:
        raise DomainError(_("This session is cancelled."))
    if now < session.starts_at - timedelta(minutes=15):
        raise DomainError(_("This session has not started yet. Scan the code when it begins."))
    if now > session.ends_at + grace:
        raise DomainError(_("This session has ended; check-in is closed. Ask your trainer."))
    if not qr_token_valid(session, token, now):
        raise DomainError(_("This code has expired. Scan the code on the screen again."))
    if person.id not in enrolled_person_ids(session.run_id):
        raise DomainError(_("You are not enrolled in this course. Ask your trainer to add you."))
    existing = db.session.scalar(
        sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.person_id == person.id
        )
    )
    if existing is not None and existing.status in (
        AttendanceStatus.PRESENT,
        AttendanceStatus.LATE,
    ):
        raise Conflict(_("You are already checked in for this session."))
    status = (
        AttendanceStatus.LATE if now > session.starts_at + late_after else AttendanceStatus.PRESENT
    )
    return record_mark(
        session=session,
        person_id=person.id,
        status=status,
        remark=None,
        marked_at=now,
        by=by,
        channel=Channel.QR,
        now=now,
    )

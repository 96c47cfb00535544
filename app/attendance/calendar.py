"""iCalendar feeds of sessions, per learner, per trainer and per course run.

Calendar clients subscribe without signing in, so a feed's URL carries a signed token: the
user or run id, signed with the app's SECRET_KEY and a salt per kind of feed, so a learner's
token cannot be replayed as a trainer's or a run's.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer

from app.courses.models import CourseRun, CourseRunTrainer
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.extensions import db

from .models import CourseSession

LEARNER, TRAINER, RUN = "learner", "trainer", "run"
FEED_KINDS = (LEARNER, TRAINER, RUN)
TIME_ZONE = ZoneInfo("Europe/Belgrade")
# Feeds carry the sessions of the last year and everything ahead; older ones only slow clients.
HISTORY = timedelta(days=365)


def _serializer(kind: str) -> URLSafeSerializer:
    if kind not in FEED_KINDS:
        raise ValueError(kind)
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"calendar-feed-{kind}")


def feed_token(kind: str, object_id: int) -> str:
    """The unguessable part of a feed's URL."""
    return _serializer(kind).dumps(object_id)


def feed_object_id(kind: str, token: str) -> int | None:
    """The user or run id a token was made for; None when it was not signed by us."""
    try:
        value = _serializer(kind).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sessions(condition, now: datetime) -> list[CourseSession]:
    return list(
        db.session.scalars(
            sa.select(CourseSession)
            .where(condition, CourseSession.ends_at >= now - HISTORY)
            .options(
                so.joinedload(CourseSession.run).joinedload(CourseRun.course),
                so.joinedload(CourseSession.municipality),
                so.joinedload(CourseSession.trainer),
            )
            .order_by(CourseSession.starts_at, CourseSession.id)
        )
    )


def learner_sessions(person_id: int, now: datetime) -> list[CourseSession]:
    """Sessions of the runs the person is enrolled in, cancelled ones included."""
    runs = sa.select(Enrollment.run_id).where(
        Enrollment.person_id == person_id, Enrollment.status == EnrollmentStatus.ENROLLED
    )
    return _sessions(CourseSession.run_id.in_(runs), now)


def trainer_sessions(user_id: int, now: datetime) -> list[CourseSession]:
    """Sessions of the runs the user teaches, and any session they are the trainer of."""
    runs = sa.select(CourseRunTrainer.run_id).where(CourseRunTrainer.user_id == user_id)
    return _sessions(
        sa.or_(CourseSession.run_id.in_(runs), CourseSession.trainer_id == user_id), now
    )


def run_sessions(run_id: int, now: datetime) -> list[CourseSession]:
    return _sessions(CourseSession.run_id == run_id, now)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC)


def _event(session: CourseSession, run_url: str) -> Event:
    run = session.run
    title = run.course.localized("title", run.language)
    event = Event()
    # Stable UID and a SEQUENCE raised on each move or cancellation: clients update in place.
    event.add("uid", f"session-{session.id}@akademia")
    event.add("sequence", session.sequence)
    event.add("dtstamp", _utc(session.updated_at))
    event.add("last-modified", _utc(session.updated_at))
    event.add("dtstart", _utc(session.starts_at).astimezone(TIME_ZONE))
    event.add("dtend", _utc(session.ends_at).astimezone(TIME_ZONE))
    event.add("summary", title)
    event.add("location", f"{session.venue}, {session.municipality.display_name}")
    # Cancelled sessions stay in the feed so subscribed clients remove or strike them.
    event.add("status", "CANCELLED" if session.cancelled else "CONFIRMED")
    event.add("url", run_url)
    lines = [title]
    if session.trainer:
        lines.append(session.trainer.name)
    if session.note:
        lines.append(session.note)
    lines.append(run_url)
    event.add("description", "\n".join(lines))
    return event


def build_calendar(
    *, name: str, sessions: list[CourseSession], run_url: Callable[[int], str]
) -> bytes:
    """An RFC 5545 calendar with a VTIMEZONE for Europe/Belgrade; run_url(run_id) links back."""
    calendar = Calendar()
    calendar.add("prodid", "-//Akademia//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TIME_ZONE.key)
    for session in sessions:
        calendar.add_component(_event(session, run_url(session.run_id)))
    if sessions:
        # Rules for the span of the feed only, rather than icalendar's default 1970–2038.
        first = min(s.starts_at for s in sessions).date() - timedelta(days=1)
        last = max(s.ends_at for s in sessions).date() + timedelta(days=366)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()

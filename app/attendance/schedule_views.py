"""What the scheduling pages show of a session, and the notices learners receive."""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import format_date, format_time, to_user_timezone
from flask_babel import gettext as _

from .models import CourseSession


def local_day(at: datetime) -> str:
    """The date in Europe/Belgrade ("Tuesday, 27 October 2026"), not the UTC date."""
    return format_date(to_user_timezone(at).date(), "full")


def local_time(at: datetime) -> str:
    return format_time(to_user_timezone(at).replace(tzinfo=None).time(), "short")


def local_span(starts_at: datetime, ends_at: datetime) -> str:
    return f"{local_time(starts_at)}–{local_time(ends_at)}"


@dataclass
class SessionRow:
    id: int
    day: str
    time: str
    venue: str
    municipality: str
    trainer: str
    cancelled: bool
    moved: bool


def session_rows(sessions: list[CourseSession]) -> list[SessionRow]:
    """Rows for a list of sessions loaded with municipality and trainer (no further queries)."""
    return [
        SessionRow(
            id=s.id,
            day=local_day(s.starts_at),
            time=local_span(s.starts_at, s.ends_at),
            venue=s.venue,
            municipality=s.municipality.display_name,
            trainer=s.trainer.name if s.trainer else "",
            cancelled=s.cancelled,
            # Only moves and cancellations raise the sequence.
            moved=s.sequence > 0 and not s.cancelled,
        )
        for s in sessions
    ]


def moved_notice(
    *,
    title: str,
    session: CourseSession,
    starts_at: datetime,
    ends_at: datetime,
    venue: str,
    municipality: str,
    message: str | None,
) -> str:
    """The learners' notice for a move; `session` still holds the old time."""
    notice = _(
        "%(course)s: the session of %(old_day)s at %(old_time)s is moved to %(day)s, "
        "%(time)s, %(venue)s, %(municipality)s.",
        course=title,
        old_day=local_day(session.starts_at),
        old_time=local_time(session.starts_at),
        day=local_day(starts_at),
        time=local_span(starts_at, ends_at),
        venue=venue.strip(),
        municipality=municipality,
    )
    message = (message or "").strip()
    return f"{notice} {message}" if message else notice


def cancelled_notice(*, title: str, session: CourseSession, reason: str) -> str:
    return _(
        "%(course)s: the session of %(day)s at %(time)s (%(venue)s) is cancelled. %(reason)s",
        course=title,
        day=local_day(session.starts_at),
        time=local_time(session.starts_at),
        venue=session.venue,
        reason=reason.strip(),
    )


@dataclass
class FeedLink:
    """A calendar feed to subscribe to: the web address and the webcal:// one clients open."""

    label: str
    url: str
    webcal: str
    starts_on: date | None = None


def feed_link(label: str, url: str, starts_on: date | None = None) -> FeedLink:
    return FeedLink(
        label=label, url=url, webcal="webcal://" + url.split("://", 1)[-1], starts_on=starts_on
    )

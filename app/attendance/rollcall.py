"""The roll-call: reads for the roster page and the QR screen, and walk-ins created at the door.

Kept beside services.py and queries.py (which the scheduling, paper and roll-call parts share)
so the roll-call's own view models and its one write live together.
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
from app.enrollment.queries import roster
from app.errors import DomainError
from app.extensions import db
from app.people.models import Person, Sex
from app.people.queries import PeopleFilters, people_query
from app.permissions import managed_programme_ids
from app.places.models import Municipality
from app.text import normalize_name

from . import services
from .models import (
    ATTENDANCE_LABELS,
    ATTENDED,
    Attendance,
    AttendanceStatus,
    Channel,
    CourseSession,
)
from .queries import session_marks

SEARCH_MIN_CHARS = 2
SEARCH_LIMIT = 20
CHANNEL_LABELS = {
    Channel.ROLL_CALL: _l("roll-call"),
    Channel.QR: _l("QR check-in"),
    Channel.OFFLINE_SYNC: _l("sent after being offline"),
    Channel.IMPORT: _l("paper sheet"),
}


@dataclass
class RollCallRow:
    """One learner on the roll-call, with the mark that stands now ("" when unmarked)."""

    person_id: int
    name: str
    search_key: str
    municipality: str
    institution: str
    status: str = ""
    remark: str = ""
    marked_by: str = ""
    marked_at: datetime | None = None
    channel: str = ""
    walk_in: bool = False
    needs_review: bool = False
    # For the no-JavaScript form: sending the same form twice records one mark.
    client_id: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def marked_at_iso(self) -> str:
        return self.marked_at.isoformat() + "Z" if self.marked_at else ""


@dataclass
class RollCall:
    session: CourseSession
    rows: list[RollCallRow]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def unmarked(self) -> int:
        return sum(1 for row in self.rows if not row.status)


def _name(person: Person | None) -> str:
    return person.full_name if person else ""


def rollcall(session: CourseSession) -> RollCall:
    """The session's roster (enrolled learners by last name) with the current marks.

    Three queries whatever the number of learners: roster, marks (with who marked them),
    and the markers' roles (loaded by the User model itself).
    """
    marks = session_marks(session.id)
    rows = []
    for enrollment in roster(session.run_id):
        person = enrollment.person
        municipality = person.municipality.display_name if person.municipality else ""
        row = RollCallRow(
            person_id=person.id,
            name=f"{person.last_name}, {person.first_name}",
            search_key=normalize_name(f"{person.first_name} {person.last_name} {municipality}"),
            municipality=municipality,
            institution=person.institution.name if person.institution else "",
            walk_in=enrollment.source == EnrollmentSource.WALK_IN,
            needs_review=person.needs_review,
        )
        mark = marks.get(person.id)
        if mark is not None:
            row.status = str(mark.status)
            row.remark = mark.remark or ""
            row.marked_by = _name(mark.marked_by.person) if mark.marked_by else ""
            row.marked_at = mark.marked_at
            row.channel = str(CHANNEL_LABELS[mark.channel])
        rows.append(row)
    counts = {str(status): 0 for status in AttendanceStatus}
    for row in rows:
        if row.status:
            counts[row.status] += 1
    return RollCall(session=session, rows=rows, counts=counts)


def status_labels() -> dict[str, str]:
    return {str(status): str(label) for status, label in ATTENDANCE_LABELS.items()}


def result_message(result: services.MarkResult) -> str:
    """What the no-JavaScript roll-call says after a mark."""
    status = ATTENDANCE_LABELS[result.status]
    if result.applied:
        return _("Saved: %(status)s.", status=status)
    time = format_datetime(result.marked_at, "HH:mm")
    if result.marked_by:
        return _(
            "Kept %(name)s's later mark: %(status)s (%(time)s)",
            name=result.marked_by.split(" ")[0],
            status=status,
            time=time,
        )
    return _("Kept a later mark: %(status)s (%(time)s)", status=status, time=time)


def script_text() -> dict[str, str]:
    """The roll-call script's messages in the user's language (%(…)s filled in by the script)."""
    return {
        "saved": _("Saved"),
        "sending": _("Sending…"),
        "waiting": _("Waiting for connection"),
        "all_saved": _("All changes saved"),
        "saving_one": _("Saving %(num)s change…"),
        "saving_many": _("Saving %(num)s changes…"),
        "waiting_one": _("%(num)s change waiting for connection"),
        "waiting_many": _("%(num)s changes waiting for connection"),
        "offline": _("Offline: marks are kept on this device until the connection returns."),
        "refused": _("Marks refused by the server: %(num)s. See the rows marked in red."),
        "signed_out": _("Sign in again to send the waiting marks; they are kept on this device."),
        "busy": _("The server is busy; trying again shortly."),
        "conflict": _("Kept %(name)s's later mark: %(status)s (%(time)s)"),
        "conflict_anonymous": _("Kept a later mark: %(status)s (%(time)s)"),
        "not_marked": _("Not marked yet"),
        "marked_by": _("%(status)s · %(name)s · %(time)s"),
        "marked": _("%(status)s · %(time)s"),
        "offline_ready": _("Ready to work offline on this device."),
        "no_storage": _("This browser cannot keep marks offline; stay connected while marking."),
        "search_short": _("Type at least two letters."),
        "search_none": _("No one found. Add them as someone new below."),
        "add": _("Add to the roster"),
        "walk_in_offline": _("Adding people needs a connection. Marks still work offline."),
        "shown": _("Shown: %(num)s of %(total)s"),
    }


def mark_json(mark: Attendance) -> dict:
    """A standing mark as the roll-call script reads it (times in UTC with a Z)."""
    return {
        "person_id": mark.person_id,
        "status": str(mark.status),
        "remark": mark.remark or "",
        "marked_at": mark.marked_at.isoformat() + "Z",
        "marked_by": _name(mark.marked_by.person) if mark.marked_by else None,
        "channel": str(mark.channel),
    }


# Walk-ins -------------------------------------------------------------------------------


def searchable_programme_ids(user: User, session: CourseSession) -> set[int] | None:
    """Whom a walk-in search may find: administrators anyone (None); trainers the people of
    the run's programme; managers also the people of the other programmes they manage."""
    ids = managed_programme_ids(user)
    if ids is None:
        return None
    return ids | {session.run.programme_id}


def walk_in_candidates(
    *, q: str, programme_ids: set[int] | None, session: CourseSession
) -> list[Person]:
    """People matching the search who are not on the roster yet (at most SEARCH_LIMIT)."""
    if len((q or "").strip()) < SEARCH_MIN_CHARS:
        return []
    on_roster = sa.select(Enrollment.person_id).where(
        Enrollment.run_id == session.run_id, Enrollment.status == EnrollmentStatus.ENROLLED
    )
    query = (
        people_query(programme_ids, PeopleFilters(q=q))
        .where(Person.id.not_in(on_roster))
        .limit(SEARCH_LIMIT)
    )
    return list(db.session.scalars(query))


def candidate_json(person: Person) -> dict:
    return {
        "id": person.id,
        "name": person.full_name,
        "municipality": person.municipality.display_name if person.municipality else "",
    }


def create_walk_in(
    *,
    session: CourseSession,
    first_name: str,
    last_name: str,
    sex: Sex,
    municipality_id: int | None,
    by: User,
    now: datetime | None = None,
) -> Person:
    """Someone new at the door: a person with the minimum fields, flagged for a manager to
    complete (needs_review), enrolled on the spot like any walk-in."""
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if not first:
        raise DomainError(_("Enter the first name."), field="first_name")
    if not last:
        raise DomainError(_("Enter the last name."), field="last_name")
    if municipality_id and db.session.get(Municipality, municipality_id) is None:
        raise DomainError(_("Choose a municipality from the list."), field="municipality_id")
    person = Person(
        first_name=first[:100],
        last_name=last[:100],
        sex=sex,
        municipality_id=municipality_id or None,
        needs_review=True,
    )
    db.session.add(person)
    db.session.flush()
    services.add_walk_in(session=session, person=person, by=by, now=now)
    return person


# QR screen -------------------------------------------------------------------------------


@dataclass
class CheckInCount:
    checked_in: int  # present or late, whatever the channel
    enrolled: int
    recent: list[str]  # who arrived by QR last, newest first, as "First L."


def check_in_count(session: CourseSession, recent: int = 5) -> CheckInCount:
    """The live figures on the trainer's QR screen: three queries."""
    checked_in = db.session.scalar(
        sa.select(sa.func.count(Attendance.id)).where(
            Attendance.session_id == session.id, Attendance.status.in_(ATTENDED)
        )
    )
    rows = db.session.execute(
        sa.select(Person.first_name, Person.last_name)
        .join(Attendance, Attendance.person_id == Person.id)
        .where(
            Attendance.session_id == session.id,
            Attendance.channel == Channel.QR,
            Attendance.status.in_(ATTENDED),
        )
        .order_by(Attendance.received_at.desc(), Attendance.id.desc())
        .limit(recent)
    ).all()
    # The screen faces the room: first name and initial only.
    names = [f"{r.first_name} {r.last_name[:1]}." for r in rows]
    enrolled = db.session.scalar(
        sa.select(sa.func.count(Enrollment.id)).where(
            Enrollment.run_id == session.run_id, Enrollment.status == EnrollmentStatus.ENROLLED
        )
    )
    return CheckInCount(checked_in=checked_in or 0, enrolled=enrolled or 0, recent=names)

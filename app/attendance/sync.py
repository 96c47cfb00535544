"""A batch of marks from the roll-call script (online taps and the offline outbox).

Each mark is checked and recorded on its own: a bad mark gets its own error and never costs
the others. Marks are recorded in (session, person, device time) order so two batches that
touch the same rows take their locks in the same order (no deadlocks on PostgreSQL) and a
person's marks from one batch apply oldest first.
"""

import logging
import re
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.auth.models import User
from app.courses.models import CourseRun
from app.database import MAX_ID
from app.errors import DomainError
from app.extensions import db
from app.permissions import can_teach_run

from . import services
from .models import AttendanceStatus, Channel, CourseSession

log = logging.getLogger(__name__)

MAX_MARKS = 500
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# The script says how a mark travelled: straight from a tap, or from the offline outbox.
CLIENT_CHANNELS = {"roll_call": Channel.ROLL_CALL, "offline_sync": Channel.OFFLINE_SYNC}
EARLIEST = datetime(2000, 1, 1)


class InvalidMark(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class IncomingMark:
    client_id: str
    session_id: int
    person_id: int
    status: AttendanceStatus
    remark: str | None
    marked_at: datetime | None
    channel: Channel


def _positive_int(value, name: str) -> int:
    # Past MAX_ID no row can have the id, and the driver would refuse to send the number.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise InvalidMark(_("%(field)s must be a positive whole number.", field=name))
    return value


def parse_time(value) -> datetime | None:
    """An ISO 8601 device time ("…Z" or with an offset) as naive UTC; naive means UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidMark(_("marked_at must be an ISO 8601 date and time."))
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidMark(_("marked_at must be an ISO 8601 date and time.")) from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # year 1 east of Greenwich or 9999 west of it: no UTC time
            raise InvalidMark(_("marked_at must be an ISO 8601 date and time.")) from None
    if moment < EARLIEST:
        raise InvalidMark(_("marked_at is too far in the past; check the device's clock."))
    return moment


def parse_mark(raw) -> IncomingMark:
    if not isinstance(raw, dict):
        raise InvalidMark(_("Each mark must be an object."))
    client_id = raw.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise InvalidMark(_("client_id must be 8 to 64 letters, digits, - or _."))
    try:
        status = AttendanceStatus(raw.get("status"))
    except ValueError:
        raise InvalidMark(_("status must be present, late, excused or absent.")) from None
    remark = raw.get("remark")
    if remark is not None and not isinstance(remark, str):
        raise InvalidMark(_("remark must be text."))
    if remark is not None:
        remark = remark.replace("\x00", "")  # PostgreSQL refuses NUL in text (app/http.py)
    channel_name = raw.get("channel") or "roll_call"
    channel = CLIENT_CHANNELS.get(channel_name) if isinstance(channel_name, str) else None
    if channel is None:
        raise InvalidMark(_("channel must be roll_call or offline_sync."))
    return IncomingMark(
        client_id=client_id,
        session_id=_positive_int(raw.get("session_id"), "session_id"),
        person_id=_positive_int(raw.get("person_id"), "person_id"),
        status=status,
        remark=remark,
        marked_at=parse_time(raw.get("marked_at")),
        channel=channel,
    )


def _error(raw, code: str, message: str) -> dict:
    client_id = raw.get("client_id") if isinstance(raw, dict) else None
    return {
        "client_id": client_id if isinstance(client_id, str) else None,
        "ok": False,
        "error": code,
        "message": message,
    }


def _sessions(ids: set[int]) -> dict[int, CourseSession]:
    if not ids:
        return {}
    # One query: a phone sends one mark per request, so every statement counts here.
    rows = db.session.scalars(
        sa.select(CourseSession)
        .where(CourseSession.id.in_(ids))
        .options(so.joinedload(CourseSession.run).joinedload(CourseRun.trainer_rows))
    ).unique()
    return {row.id: row for row in rows}


def apply_marks(*, marks: list, user: User, now: datetime) -> list[dict]:
    """Record each mark for `user`; one result per mark, in the order received."""
    results: list[dict | None] = [None] * len(marks)
    parsed: list[tuple[int, IncomingMark]] = []
    for index, raw in enumerate(marks):
        try:
            parsed.append((index, parse_mark(raw)))
        except InvalidMark as error:
            results[index] = _error(raw, "invalid", error.message)

    sessions = _sessions({mark.session_id for _, mark in parsed})
    allowed = {sid: can_teach_run(user, s.run) for sid, s in sessions.items()}

    parsed.sort(key=lambda p: (p[1].session_id, p[1].person_id, p[1].marked_at or now, p[0]))
    for index, mark in parsed:
        session = sessions.get(mark.session_id)
        if session is None:
            results[index] = _error(marks[index], "not_found", _("This session does not exist."))
            continue
        if not allowed[mark.session_id]:
            results[index] = _error(
                marks[index], "forbidden", _("You do not teach the course of this session.")
            )
            continue
        try:
            # A savepoint per mark when there are others to protect from its failure.
            with db.session.begin_nested() if len(parsed) > 1 else nullcontext():
                result = services.record_mark(
                    session=session,
                    person_id=mark.person_id,
                    status=mark.status,
                    remark=mark.remark,
                    marked_at=mark.marked_at,
                    by=user,
                    channel=mark.channel,
                    client_id=mark.client_id,
                    now=now,
                )
        except DomainError as error:
            results[index] = _error(marks[index], "refused", error.message)
        except (sa.exc.IntegrityError, sa.exc.NoResultFound, sa.exc.DataError):
            # A client_id reused for another person, or a value the database refuses.
            log.exception("mark %s could not be recorded", mark.client_id)
            if len(parsed) == 1:
                db.session.rollback()  # no savepoint: nothing else in this transaction
            results[index] = _error(
                marks[index], "refused", _("This mark could not be saved; mark the person again.")
            )
        else:
            results[index] = {"ok": True, "session_id": mark.session_id, **result.as_json()}
    return results  # type: ignore[return-value]

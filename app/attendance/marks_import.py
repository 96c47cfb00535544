"""Import of attendance marks for sessions held on paper: parse, preview, then save.

Two layouts are read, from CSV or XLSX:
- long: one row per person and session — e-mail or name, session date (and start time when a
  day has two sessions), status;
- wide: one row per person, one column per session named by its date ("12.03.2026", or
  "12.03.2026 09:00" when a day has two sessions) — the register export's layout, so an
  exported register can be filled in and imported back.

`preview_marks` only reads; `apply_marks` writes the valid rows of a preview through
services.record_mark in the caller's transaction. Reading the file (size and content checks,
CSV encoding and delimiter) is the participant import's: app/people/importer.py.
"""

import enum
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import to_user_timezone

from app.auth.models import User
from app.courses.models import CourseRun
from app.enrollment.models import Enrollment
from app.enrollment.queries import roster
from app.extensions import db
from app.people.importer import (
    DATE_DOTTED,
    DATE_ISO,
    DATE_SLASHED,
    HEADER_LOOKUP,
    ImportFileError,
    detect_kind,
    read_table,
)
from app.people.importer import _key as fold_key
from app.people.queries import loose_key
from app.text import normalize_email, normalize_name

from . import services
from .models import ATTENDANCE_LABELS, Attendance, AttendanceStatus, Channel, CourseSession
from .queries import run_sessions


class Layout(enum.StrEnum):
    LONG = "long"  # one row per person and session
    WIDE = "wide"  # one row per person, a column per session


class Outcome(enum.StrEnum):
    NEW = "new"  # no mark yet
    CHANGE = "change"  # replaces a different mark made during or before the session
    LATER = "later"  # a correction made after the session stands; the paper is only kept
    SAME = "same"  # the same mark is already recorded: nothing to write


# Column names in English, Albanian and Serbian, compared without case, accents or spaces.
# E-mail, first and last name come from the participant import's HEADER_LOOKUP.
COLUMN_ALIASES = {
    "name": [
        "name",
        "full name",
        "learner",
        "participant",
        "person",
        "emri dhe mbiemri",
        "emri mbiemri",
        "emri i plote",
        "pjesemarresi",
        "pjesemarres",
        "ime i prezime",
        "ime prezime",
        "ucesnik",
        "polaznik",
        "име и презиме",
    ],
    "date": [
        "date",
        "session date",
        "session",
        "data",
        "date e sesionit",
        "data e sesionit",
        "sesioni",
        "datum",
        "datum sesije",
        "sesija",
        "датум",
    ],
    "time": [
        "time",
        "start",
        "start time",
        "starts",
        "ora",
        "koha",
        "fillimi",
        "ora e fillimit",
        "vreme",
        "vrijeme",
        "pocetak",
        "време",
    ],
    "status": [
        "status",
        "mark",
        "attendance",
        "statusi",
        "prezenca",
        "pjesemarrja",
        "vijimi",
        "prisustvo",
        "присуство",
    ],
}
COLUMN_LOOKUP = {fold_key(a): column for column, names in COLUMN_ALIASES.items() for a in names}
PERSON_COLUMNS = {"email", "first_name", "last_name"}

# What people write in the status cells; P/L/E/A are the register export's letters.
STATUS_VALUES = {
    AttendanceStatus.PRESENT: [
        "present",
        "p",
        "x",
        "prezent",
        "prezente",
        "i pranishëm",
        "e pranishme",
        "pranishëm",
        "prisutan",
        "prisutna",
        "prisutno",
        "присутан",
        "присутна",
    ],
    AttendanceStatus.LATE: [
        "late",
        "l",
        "vonesë",
        "me vonesë",
        "vonë",
        "kasni",
        "kasnio",
        "kasnila",
        "zakasnio",
        "zakasnila",
        "касни",
    ],
    AttendanceStatus.EXCUSED: [
        "excused",
        "e",
        "arsyetuar",
        "i arsyetuar",
        "e arsyetuar",
        "me arsye",
        "opravdano",
        "opravdan",
        "opravdana",
        "оправдано",
    ],
    AttendanceStatus.ABSENT: [
        "absent",
        "a",
        "mungon",
        "mungoi",
        "mungesë",
        "odsutan",
        "odsutna",
        "odsutno",
        "одсутан",
        "одсутна",
    ],
}
STATUS_LOOKUP = {fold_key(v): status for status, values in STATUS_VALUES.items() for v in values}
# Folding drops symbols, so ticks are looked up as typed.
CHECK_MARKS = {"✓", "✔", "☑", "✅", "√"}

SESSION_HEADER = re.compile(
    r"(?P<date>\d{1,2}\.\s?\d{1,2}\.\s?\d{4}\.?|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})(?::\d{2})?)?"
)
TIME = re.compile(r"(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})(?::\d{2}(?:\.\d+)?)?")


def status_from_cell(value: str) -> AttendanceStatus | None:
    """The status a cell means; None for an empty cell. Raises ValueError for anything else."""
    value = value.strip()
    if value in CHECK_MARKS:
        return AttendanceStatus.PRESENT
    key = fold_key(value)
    if not key:
        return None
    if key not in STATUS_LOOKUP:
        raise ValueError(value)
    return STATUS_LOOKUP[key]


def parse_day(text: str) -> tuple[date, str | None] | None:
    """(date, "HH:MM" or None) from "12.03.2026", "2026-03-12 09:00", "12/03/2026" …"""
    match = SESSION_HEADER.fullmatch(text.strip())
    if not match:
        return None
    raw = match.group("date")
    if m := DATE_ISO.fullmatch(raw):
        year, month, day = (int(g) for g in m.groups())
    elif (m := DATE_DOTTED.fullmatch(raw)) or (m := DATE_SLASHED.fullmatch(raw)):
        day, month, year = (int(g) for g in m.groups())
    else:
        return None
    try:
        when = date(year, month, day)
    except ValueError:
        return None
    at = None
    if match.group("hour") is not None:
        at = _hhmm(match.group("hour"), match.group("minute"))
        if at is None:
            return None
    return when, at


def parse_time(text: str) -> str | None:
    match = TIME.fullmatch(text.strip())
    return _hhmm(match.group("hour"), match.group("minute")) if match else None


def _hhmm(hour: str, minute: str) -> str | None:
    if int(hour) > 23 or int(minute) > 59:
        return None
    return f"{int(hour):02d}:{int(minute):02d}"


def session_header(session: CourseSession, same_day: int) -> str:
    """The column name of a session in the register export, read back by parse_day."""
    local = to_user_timezone(session.starts_at)
    return local.strftime("%d.%m.%Y %H:%M" if same_day > 1 else "%d.%m.%Y")


def _name_key(name: str) -> str:
    """Person.name_key made order-free and loose: "KRASNIQI, Arberesha" meets "Arbëresha
    Krasniqi", and "Djordjevic" meets "Đorđević"."""
    return " ".join(sorted(loose_key(normalize_name(name)).split()))


# --- What the preview holds ----------------------------------------------------------------


@dataclass
class PlannedMark:
    session_id: int
    session_label: str
    status: AttendanceStatus
    outcome: Outcome
    previous: AttendanceStatus | None = None
    from_blank: bool = False  # an empty cell read as absent

    @property
    def label(self) -> str:
        return str(ATTENDANCE_LABELS[self.status])

    @property
    def previous_label(self) -> str:
        return str(ATTENDANCE_LABELS[self.previous]) if self.previous else ""


@dataclass
class MarkRow:
    number: int  # as the spreadsheet numbers it: the header is row 1
    who: str  # the e-mail or name as written
    person_id: int | None = None
    person_name: str | None = None
    marks: list[PlannedMark] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def writes(self) -> list[PlannedMark]:
        return [m for m in self.marks if m.outcome != Outcome.SAME]


@dataclass
class MarksPreview:
    kind: str
    layout: Layout
    columns: list[str]
    ignored_columns: list[str]
    rows: list[MarkRow]

    @property
    def valid_rows(self) -> list[MarkRow]:
        return [row for row in self.rows if not row.problems]

    @property
    def error_rows(self) -> list[MarkRow]:
        return [row for row in self.rows if row.problems]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.valid_rows for m in row.marks if m.outcome == outcome)

    @property
    def write_count(self) -> int:
        return sum(len(row.writes) for row in self.valid_rows)


@dataclass
class MarksResult:
    recorded: int = 0  # written and now standing
    overruled: int = 0  # written to the history; a later correction stands
    unchanged: int = 0  # already recorded the same way
    duplicates: int = 0  # this upload's marks arriving again
    skipped: list[MarkRow] = field(default_factory=list)


# --- Reading -------------------------------------------------------------------------------


@dataclass
class _Columns:
    person: dict[str, int]  # email / name / first_name / last_name → index
    long: dict[str, int]  # date / time / status → index
    sessions: dict[int, tuple[date, str | None, str]]  # index → (day, time, header)
    ignored: list[str]


def _map_columns(header: list[str]) -> _Columns:
    columns = _Columns(person={}, long={}, sessions={}, ignored=[])
    for index, name in enumerate(header):
        key = fold_key(name)
        mine = COLUMN_LOOKUP.get(key)
        theirs = HEADER_LOOKUP.get(key)
        day = parse_day(name)
        if mine == "name" and "name" not in columns.person:
            columns.person["name"] = index
        elif mine in ("date", "time", "status") and mine not in columns.long:
            columns.long[mine] = index
        elif theirs in PERSON_COLUMNS and theirs not in columns.person:
            columns.person[theirs] = index
        elif day is not None:
            columns.sessions[index] = (*day, name.strip())
        elif name.strip():
            columns.ignored.append(name.strip())
    if not columns.person:
        raise ImportFileError(
            _("The file has no column for the e-mail or the name of the learners.")
        )
    if {"date", "status"} <= columns.long.keys():
        columns.ignored += [title for _day, _at, title in columns.sessions.values()]
        columns.sessions = {}
    elif columns.sessions:
        columns.ignored += [header[i] for i in columns.long.values()]
        columns.long = {}
    else:
        raise ImportFileError(
            _(
                "The file needs either a date and a status column (one row per person and "
                "session), or one column per session named by its date such as 12.03.2026 "
                "(one row per person, like the register export)."
            )
        )
    return columns


class _Context:
    """What the rows are checked against, loaded once: learners, sessions and current marks."""

    def __init__(self, run: CourseRun, now: datetime):
        self.now = now
        self.learners: list[Enrollment] = roster(run.id)
        self.by_email = {e.person.email.lower(): e for e in self.learners if e.person.email}
        self.by_name: dict[str, list[Enrollment]] = defaultdict(list)
        for enrollment in self.learners:
            self.by_name[_name_key(enrollment.person.name_key)].append(enrollment)
        self.sessions = run_sessions(run.id)
        self.by_day: dict[date, list[CourseSession]] = defaultdict(list)
        self.local: dict[int, datetime] = {}
        for session in self.sessions:
            local = to_user_timezone(session.starts_at)
            self.local[session.id] = local
            self.by_day[local.date()].append(session)
        self.marks: dict[tuple[int, int], Attendance] = {
            (a.session_id, a.person_id): a
            for a in db.session.scalars(
                sa.select(Attendance).where(
                    Attendance.session_id.in_([s.id for s in self.sessions])
                )
            )
        }

    def label(self, session: CourseSession) -> str:
        return self.local[session.id].strftime("%d.%m.%Y %H:%M")

    def find_person(self, row: MarkRow, email: str, name: str) -> Enrollment | None:
        if email:
            found = self.by_email.get(normalize_email(email) or "")
            if found is not None or not name:
                if found is None:
                    row.problems.append(
                        _(
                            "No learner of this course has the e-mail %(email)s. Enrol them "
                            "first, or correct the address.",
                            email=email,
                        )
                    )
                return found
        if not name:
            row.problems.append(_("The row names nobody: fill in the e-mail or the name."))
            return None
        namesakes = self.by_name.get(_name_key(name), [])
        if len(namesakes) > 1:
            row.problems.append(
                _(
                    "Several learners of this course are called %(name)s; add the e-mail to "
                    "tell which one.",
                    name=name,
                )
            )
            return None
        if not namesakes:
            row.problems.append(
                _(
                    "%(name)s is not enrolled in this course. Enrol them first, or correct "
                    "the name.",
                    name=name,
                )
            )
            return None
        return namesakes[0]

    def find_session(self, day: date, at: str | None) -> CourseSession | str:
        """The session held on that day (at that time), or the problem as a message."""
        shown = day.strftime("%d.%m.%Y")
        candidates = self.by_day.get(day, [])
        if at is not None:
            candidates = [s for s in candidates if self.local[s.id].strftime("%H:%M") == at]
            shown = f"{shown} {at}"
        active = [s for s in candidates if not s.cancelled]
        if not candidates:
            return _("This course has no session on %(day)s.", day=shown)
        if not active:
            return _("The session on %(day)s was cancelled.", day=shown)
        if len(active) > 1:
            return _(
                "There are several sessions on %(day)s (starting %(times)s): add the start "
                "time, e.g. %(example)s.",
                day=shown,
                times=", ".join(self.local[s.id].strftime("%H:%M") for s in active),
                example=self.label(active[0]),
            )
        session = active[0]
        if session.starts_at > self.now:
            return _("The session on %(day)s has not taken place yet.", day=shown)
        return session

    def counts_for(self, enrollment: Enrollment, session: CourseSession) -> bool:
        """Held, and on or after the learner's enrolment: where an empty cell means absent."""
        counts_from = enrollment.enrolled_at or enrollment.requested_at
        return session.starts_at <= self.now and session.starts_at >= counts_from

    def plan(
        self, enrollment: Enrollment, session: CourseSession, status: AttendanceStatus | None
    ) -> PlannedMark | None:
        """What writing the cell would do; None for an empty cell that changes nothing."""
        current = self.marks.get((session.id, enrollment.person_id))
        from_blank = status is None
        if from_blank:
            # An empty cell is "absent" only where nothing is recorded: it never overwrites a
            # QR check-in or a roll-call mark, and never counts before the learner enrolled.
            if current is not None or not self.counts_for(enrollment, session):
                return None
            status = AttendanceStatus.ABSENT
        if current is None:
            outcome = Outcome.NEW
        elif current.status == status:
            outcome = Outcome.SAME
        elif current.marked_at > session.ends_at:
            outcome = Outcome.LATER
        else:
            outcome = Outcome.CHANGE
        return PlannedMark(
            session_id=session.id,
            session_label=self.label(session),
            status=status,
            outcome=outcome,
            previous=current.status if current else None,
            from_blank=from_blank,
        )


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _who(cells: list[str], person: dict[str, int]) -> tuple[str, str]:
    email = _cell(cells, person.get("email"))
    name = _cell(cells, person.get("name"))
    if not name:
        first, last = _cell(cells, person.get("first_name")), _cell(cells, person.get("last_name"))
        name = f"{first} {last}".strip()
    return email, name


def preview_marks(*, data: bytes, filename: str, run: CourseRun, now: datetime) -> MarksPreview:
    """Parse and check the file against the run; saves nothing. Raises ImportFileError."""
    kind = detect_kind(data, filename)
    header, records = read_table(data, kind)
    columns = _map_columns(header)
    if not records:
        raise ImportFileError(_("The file has a header row but no rows of marks."))
    context = _Context(run, now)
    if columns.sessions:
        rows = _wide_rows(records, columns, context)
        layout = Layout.WIDE
    else:
        rows = _long_rows(records, columns, context)
        layout = Layout.LONG
    recognised = [header[i].strip() for i in (*columns.person.values(), *columns.long.values())]
    recognised += [h for _d, _t, h in columns.sessions.values()]
    return MarksPreview(
        kind=kind,
        layout=layout,
        columns=recognised,
        ignored_columns=columns.ignored,
        rows=rows,
    )


def _wide_rows(records, columns: _Columns, context: _Context) -> list[MarkRow]:
    # Resolve each session column once; a column that matches no session is a problem only
    # for the rows that wrote something in it.
    resolved = {
        index: context.find_session(day, at) for index, (day, at, _h) in columns.sessions.items()
    }
    seen: dict[int, int] = {}
    rows = []
    for number, cells in records:
        email, name = _who(cells, columns.person)
        row = MarkRow(number=number, who=email or name)
        enrollment = context.find_person(row, email, name)
        if enrollment is not None:
            row.person_id, row.person_name = enrollment.person_id, enrollment.person.full_name
            if enrollment.person_id in seen:
                row.problems.append(
                    _("Row %(row)d names the same person.", row=seen[enrollment.person_id])
                )
            seen.setdefault(enrollment.person_id, number)
        planned: dict[int, int] = {}
        for index, session in resolved.items():
            raw = _cell(cells, index)
            try:
                status = status_from_cell(raw)
            except ValueError:
                row.problems.append(_status_problem(raw, columns.sessions[index][2]))
                continue
            if isinstance(session, str):
                if status is not None:
                    row.problems.append(session)
                continue
            if session.id in planned:
                if status is not None:
                    row.problems.append(
                        _(
                            "Two columns name the session of %(day)s.",
                            day=context.label(session),
                        )
                    )
                continue
            planned[session.id] = index
            if enrollment is not None and (mark := context.plan(enrollment, session, status)):
                row.marks.append(mark)
        rows.append(row)
    return rows


def _long_rows(records, columns: _Columns, context: _Context) -> list[MarkRow]:
    seen: dict[tuple[int, int], int] = {}
    rows = []
    for number, cells in records:
        email, name = _who(cells, columns.person)
        row = MarkRow(number=number, who=email or name)
        enrollment = context.find_person(row, email, name)
        raw_day = _cell(cells, columns.long["date"])
        raw_time = _cell(cells, columns.long.get("time"))
        raw_status = _cell(cells, columns.long["status"])
        session = None
        day = parse_day(raw_day) if raw_day else None
        at = day[1] if day else None
        if raw_time:
            at = parse_time(raw_time)
            if at is None:
                row.problems.append(_("“%(value)s” is not a time like 09:30.", value=raw_time))
        if not raw_day:
            row.problems.append(_("The session date is missing."))
        elif day is None:
            row.problems.append(
                _("“%(value)s” is not a date like 12.03.2026 or 2026-03-12.", value=raw_day)
            )
        elif not (raw_time and at is None):
            found = context.find_session(day[0], at)
            if isinstance(found, str):
                row.problems.append(found)
            else:
                session = found
        try:
            status = status_from_cell(raw_status)
        except ValueError:
            row.problems.append(_status_problem(raw_status, None))
            status = None
        if enrollment is None:
            rows.append(row)
            continue
        row.person_id, row.person_name = enrollment.person_id, enrollment.person.full_name
        if session is not None:
            key = (enrollment.person_id, session.id)
            if key in seen:
                row.problems.append(
                    _(
                        "Row %(row)d already gives this person's mark for that session.",
                        row=seen[key],
                    )
                )
            seen.setdefault(key, number)
            if not row.problems and (mark := context.plan(enrollment, session, status)):
                row.marks.append(mark)
        rows.append(row)
    return rows


def _status_problem(value: str, column: str | None) -> str:
    if column:
        return _(
            "“%(value)s” under %(column)s is not a mark: use P (present), L (late), E (excused), "
            "A (absent), X or ✓ for present, or leave it empty for absent.",
            value=value,
            column=column,
        )
    return _(
        "“%(value)s” is not a mark: use P (present), L (late), E (excused), A (absent), "
        "X or ✓ for present, or leave it empty for absent.",
        value=value,
    )


# --- Saving --------------------------------------------------------------------------------


def import_client_id(token: str, row: int, session_id: int) -> str:
    """The same upload, row and session always give the same id: a confirmation sent twice
    is recorded once (record_mark ignores a client_id it has seen)."""
    digest = hashlib.sha256(f"{token}:{row}:{session_id}".encode()).hexdigest()
    return f"import-{digest[:56]}"


def apply_marks(
    *, preview: MarksPreview, run: CourseRun, token: str, by: User, now: datetime
) -> MarksResult:
    """Record the valid rows' marks; flushes only, so the caller commits them all at once."""
    result = MarksResult(skipped=preview.error_rows)
    sessions = {s.id: s for s in run_sessions(run.id)}
    for row in preview.valid_rows:
        for mark in row.marks:
            if mark.outcome == Outcome.SAME:
                result.unchanged += 1
                continue
            session = sessions[mark.session_id]
            outcome = services.record_mark(
                session=session,
                person_id=row.person_id,
                status=mark.status,
                remark=None,
                # A paper sheet says how things stood when the session ended, so its marks are
                # dated at the session's end: they replace roll-call and QR marks made during
                # the session, while a trainer's correction made after the session (later
                # device time) still wins under record_mark's "latest device time" rule — an
                # import arriving weeks later cannot silently undo it.
                marked_at=session.ends_at,
                by=by,
                channel=Channel.IMPORT,
                client_id=import_client_id(token, row.number, session.id),
                now=now,
            )
            if outcome.duplicate:
                result.duplicates += 1
            elif outcome.applied:
                result.recorded += 1
            else:
                result.overruled += 1
    return result

"""The paper and follow-up pages as plain data: sign-in sheet, register, a learner's own
attendance; and the register as XLSX and CSV files.

Everything here is read-only and returns dicts, lists, strings and numbers, so the same data
feeds HTML pages, PDF templates (which accept nothing else) and spreadsheets.
"""

import codecs
import csv
import io
from collections import Counter
from datetime import datetime

import openpyxl
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import format_date, format_datetime, format_time
from flask_babel import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.auth.models import User
from app.courses.models import CourseRun, CourseRunTrainer
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.extensions import db
from app.people.models import Person
from app.text import normalize_name

from .marks_import import session_header
from .models import (
    ATTENDANCE_LABELS,
    ATTENDED,
    Attendance,
    AttendanceStatus,
    CourseSession,
    SessionStatus,
)
from .queries import LearnerRate, register

# One letter per status in the register, its exports and the marks import.
CODES = {
    AttendanceStatus.PRESENT: "P",
    AttendanceStatus.LATE: "L",
    AttendanceStatus.EXCUSED: "E",
    AttendanceStatus.ABSENT: "A",
}
UNMARKED = "unmarked"  # held since the learner enrolled, but nobody marked them
CSV_DELIMITER = ";"  # what Excel set to Albanian or Serbian expects; the import reads both


def load_run(run_id: int) -> CourseRun | None:
    """A run with what the paper pages show and the permission check needs."""
    return db.session.scalar(
        sa.select(CourseRun)
        .where(CourseRun.id == run_id)
        .options(
            so.joinedload(CourseRun.course),
            so.joinedload(CourseRun.programme),
            so.joinedload(CourseRun.municipality),
            so.selectinload(CourseRun.trainer_rows)
            .joinedload(CourseRunTrainer.user)
            .joinedload(User.person),
        )
    )


def _sort_key(person: Person) -> tuple:
    # In Python, not SQL: SQLite and PostgreSQL order "Çeku" and "Cana" differently.
    return (normalize_name(person.last_name), normalize_name(person.first_name), person.id)


def legend() -> list[dict]:
    return [
        {"code": code, "status": str(status), "label": str(ATTENDANCE_LABELS[status])}
        for status, code in CODES.items()
    ]


# --- Sign-in sheet -------------------------------------------------------------------------


def sign_in_sheet(session: CourseSession, learners: list[Enrollment], blank_rows: int) -> dict:
    """The printed sheet of one session: plain values for the PDF template."""
    run = session.run
    trainer = session.trainer.name if session.trainer else ""
    if not trainer:
        trainer = ", ".join(sorted(row.user.name for row in run.trainer_rows))
    people = sorted((e.person for e in learners), key=_sort_key)
    rows = [
        {
            "number": number,
            "name": f"{p.last_name} {p.first_name}",
            "municipality": p.municipality.display_name if p.municipality else "",
            "institution": p.institution.name if p.institution else "",
        }
        for number, p in enumerate(people, start=1)
    ]
    return {
        "programme": run.programme.name,
        "course_code": run.course.code,
        "course_title": run.course.localized("title"),
        "date": format_date(session.starts_at, "full"),
        "starts": format_time(session.starts_at, "short"),
        "ends": format_time(session.ends_at, "short"),
        "venue": session.venue,
        "municipality": session.municipality.display_name,
        "trainer": trainer,
        "cancelled": session.cancelled,
        "learners": rows,
        "blank_rows": list(range(len(rows) + 1, len(rows) + 1 + blank_rows)),
    }


# --- Register ------------------------------------------------------------------------------


def register_view(run: CourseRun, now: datetime) -> dict:
    """Sessions × learners with each cell's mark, rates and flags: a fixed number of queries."""
    data = register(run, now)
    per_day = Counter(session_header(s, 1) for s in data.sessions)
    sessions = [
        {
            "id": s.id,
            "header": session_header(s, per_day[session_header(s, 1)]),
            "date": format_date(s.starts_at, "short"),
            "time": format_time(s.starts_at, "short"),
            "held": s.starts_at <= now,
            "counts": Counter(),
        }
        for s in data.sessions
    ]
    learners = []
    for enrollment in sorted(data.learners, key=lambda e: _sort_key(e.person)):
        person = enrollment.person
        counts_from = enrollment.enrolled_at or enrollment.requested_at
        cells = []
        for session, column in zip(data.sessions, sessions, strict=True):
            mark = data.marks.get((session.id, person.id))
            if mark is not None:
                cell = str(mark.status)
            elif column["held"] and session.starts_at >= counts_from:
                cell = UNMARKED
            else:
                cell = ""  # not held yet, or before the learner enrolled: not counted
            column["counts"][cell] += 1
            cells.append(cell)
        rate = data.rates.get(person.id)
        learners.append(
            {
                "person_id": person.id,
                "last_name": person.last_name,
                "first_name": person.first_name,
                "email": person.email or "",
                "municipality": person.municipality.display_name if person.municipality else "",
                "cells": cells,
                "attended": rate.attended if rate else 0,
                "counted": rate.counted if rate else 0,
                "rate": rate.rate if rate else None,
                "percent": rate.percent if rate else None,
                "below": bool(rate and rate.below_threshold),
            }
        )
    for column in sessions:
        counts = column.pop("counts")
        column["attended"] = sum(counts[str(status)] for status in ATTENDED)
        column["totals"] = {str(status): counts[str(status)] for status in CODES}
        column["unmarked"] = counts[UNMARKED]
    return {
        "programme": run.programme.name,
        "course_code": run.course.code,
        "course_title": run.course.localized("title"),
        "threshold": run.programme.attendance_threshold,
        "sessions": sessions,
        "learners": learners,
        "below_count": sum(1 for learner in learners if learner["below"]),
        "held_count": sum(1 for s in sessions if s["held"]),
        "codes": {str(status): code for status, code in CODES.items()},
        "labels": {str(status): str(label) for status, label in ATTENDANCE_LABELS.items()},
        "legend": legend(),
        "generated": format_datetime(now, "short"),
    }


def _headers(view: dict) -> list[str]:
    return [
        _("No."),
        _("Last name"),
        _("First name"),
        _("E-mail"),
        _("Municipality"),
        *(s["header"] for s in view["sessions"]),
        _("Attended"),
        _("Sessions counted"),
        _("Rate"),
        _("Below threshold"),
    ]


def _letters(view: dict, learner: dict) -> list[str]:
    return [view["codes"].get(cell, "") for cell in learner["cells"]]


def register_csv(view: dict) -> bytes:
    """UTF-8 with BOM (Excel then shows ë ç č ć š ž đ), ";"-separated, rate in whole percent."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    headers = _headers(view)
    headers[-2] = _("Rate %")
    writer.writerow(headers)
    for number, learner in enumerate(view["learners"], start=1):
        writer.writerow(
            [
                number,
                learner["last_name"],
                learner["first_name"],
                learner["email"],
                learner["municipality"],
                *_letters(view, learner),
                learner["attended"],
                learner["counted"],
                "" if learner["percent"] is None else learner["percent"],
                _("yes") if learner["below"] else "",
            ]
        )
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8ECEF")
BELOW_FONT = Font(bold=True, color="B42318")
CENTER = Alignment(horizontal="center", vertical="center")
WRAP = Alignment(wrap_text=True, vertical="center")


def register_xlsx(view: dict) -> bytes:
    """The register on sheet one (the layout the marks import reads back: header on row 1),
    totals per session on sheet two, the legend on sheet three."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Register")[:31]
    headers = _headers(view)
    sheet.append(headers)
    first_session = 6
    after_sessions = first_session + len(view["sessions"])
    for number, learner in enumerate(view["learners"], start=1):
        sheet.append(
            [
                number,
                learner["last_name"],
                learner["first_name"],
                learner["email"],
                learner["municipality"],
                *_letters(view, learner),
                learner["attended"],
                learner["counted"],
                learner["rate"],
                _("yes") if learner["below"] else "",
            ]
        )
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
    rate_column = after_sessions + 2
    for row in sheet.iter_rows(min_row=2):
        for cell in row[first_session - 1 : after_sessions - 1]:
            cell.alignment = CENTER
        row[rate_column - 1].number_format = "0%"
        if row[-1].value:
            row[rate_column - 1].font = BELOW_FONT
            row[-1].font = BELOW_FONT
    widths = [6, 20, 18, 28, 24] + [11] * len(view["sessions"]) + [10, 12, 9, 12]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = sheet.cell(row=2, column=first_session)
    if view["learners"]:
        sheet.auto_filter.ref = sheet.dimensions

    totals = workbook.create_sheet(_("Sessions")[:31])
    totals.append(
        [
            _("Session"),
            *(item["label"] for item in view["legend"]),
            _("No mark"),
            _("Attended"),
        ]
    )
    for session in view["sessions"]:
        totals.append(
            [
                session["header"],
                *(session["totals"][item["status"]] for item in view["legend"]),
                session["unmarked"],
                session["attended"],
            ]
        )
    for cell in totals[1]:
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
    for index, width in enumerate([18, 11, 11, 11, 11, 11, 11], start=1):
        totals.column_dimensions[get_column_letter(index)].width = width
    totals.freeze_panes = "B2"

    notes = workbook.create_sheet(_("Legend")[:31])
    for row in (
        [_("Programme"), view["programme"]],
        [_("Course"), f"{view['course_code']} · {view['course_title']}"],
        [_("Attendance threshold"), view["threshold"] / 100],
        [_("Exported"), view["generated"]],
        [],
        [_("Code"), _("Meaning")],
        *([item["code"], item["label"]] for item in view["legend"]),
        ["", _("Held after the learner enrolled, but not marked: counts as not attended.")],
        [
            _("(empty)"),
            _("Not held yet, or held before the learner enrolled: not counted."),
        ],
    ):
        notes.append(row)
    notes["B3"].number_format = "0%"
    notes["A6"].font = notes["B6"].font = HEADER_FONT
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 70

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- A learner's own attendance ------------------------------------------------------------


def learner_attendance(person_id: int, now: datetime) -> list[dict]:
    """Per course the person is enrolled in: the sessions held, their mark and their rate.

    Three queries whatever the number of courses; counted as attendance_rates counts.
    """
    enrollments = list(
        db.session.scalars(
            sa.select(Enrollment)
            .where(
                Enrollment.person_id == person_id, Enrollment.status == EnrollmentStatus.ENROLLED
            )
            .options(
                so.joinedload(Enrollment.run).joinedload(CourseRun.course),
                so.joinedload(Enrollment.run).joinedload(CourseRun.programme),
            )
            .order_by(Enrollment.id)
        )
    )
    run_ids = [e.run_id for e in enrollments]
    sessions = list(
        db.session.scalars(
            sa.select(CourseSession)
            .where(
                CourseSession.run_id.in_(run_ids),
                CourseSession.status == SessionStatus.SCHEDULED,
                CourseSession.starts_at <= now,
            )
            .order_by(CourseSession.starts_at, CourseSession.id)
        )
    )
    marks = {
        a.session_id: a.status
        for a in db.session.scalars(
            sa.select(Attendance).where(
                Attendance.person_id == person_id,
                Attendance.session_id.in_([s.id for s in sessions]),
            )
        )
    }
    courses = []
    for enrollment in enrollments:
        run = enrollment.run
        counts_from = enrollment.enrolled_at or enrollment.requested_at
        rows = []
        for session in (s for s in sessions if s.run_id == run.id):
            status = marks.get(session.id)
            counted = session.starts_at >= counts_from
            rows.append(
                {
                    "date": format_date(session.starts_at, "medium"),
                    "time": format_time(session.starts_at, "short"),
                    "venue": session.venue,
                    "status": str(status) if status else (UNMARKED if counted else ""),
                    "label": str(ATTENDANCE_LABELS[status]) if status else "",
                    "counted": counted,
                }
            )
        rate = LearnerRate(
            person_id=person_id,
            name="",
            municipality=None,
            counted=sum(1 for r in rows if r["counted"]),
            attended=sum(1 for r in rows if r["counted"] and r["status"] in ATTENDED),
            threshold=run.programme.attendance_threshold,
        )
        courses.append(
            {
                "run_id": run.id,
                "course_title": run.course.localized("title"),
                "programme": run.programme.name,
                "sessions": rows,
                "attended": rate.attended,
                "counted": rate.counted,
                "percent": rate.percent,
                "threshold": rate.threshold,
                "below": rate.below_threshold,
            }
        )
    return courses

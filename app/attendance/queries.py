"""Reads for rosters, registers and attendance rates: a fixed number of queries each."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.courses.models import CourseRun
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.extensions import db
from app.people.models import Person

from .models import ATTENDED, Attendance, CourseSession, SessionStatus


def run_sessions(run_id: int, include_cancelled: bool = True) -> list[CourseSession]:
    query = (
        sa.select(CourseSession)
        .where(CourseSession.run_id == run_id)
        .options(so.joinedload(CourseSession.municipality), so.joinedload(CourseSession.trainer))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if not include_cancelled:
        query = query.where(CourseSession.status == SessionStatus.SCHEDULED)
    return list(db.session.scalars(query))


def load_session(session_id: int) -> CourseSession | None:
    return db.session.scalar(
        sa.select(CourseSession)
        .where(CourseSession.id == session_id)
        .options(
            so.joinedload(CourseSession.run).joinedload(CourseRun.course),
            so.joinedload(CourseSession.run).joinedload(CourseRun.programme),
            so.joinedload(CourseSession.run).selectinload(CourseRun.trainer_rows),
            so.joinedload(CourseSession.municipality),
        )
    )


def session_marks(session_id: int) -> dict[int, Attendance]:
    rows = db.session.scalars(
        sa.select(Attendance)
        .where(Attendance.session_id == session_id)
        .options(so.joinedload(Attendance.marked_by))
    )
    return {row.person_id: row for row in rows}


@dataclass
class LearnerRate:
    person_id: int
    name: str
    municipality: str | None
    counted: int  # sessions held since the learner enrolled
    attended: int
    threshold: int

    @property
    def rate(self) -> float | None:
        return self.attended / self.counted if self.counted else None

    @property
    def percent(self) -> int | None:
        return round(100 * self.rate) if self.rate is not None else None

    @property
    def below_threshold(self) -> bool:
        return self.rate is not None and self.rate * 100 < self.threshold


def enrolment_attendance(run_ids, now: datetime) -> sa.Select:
    """Per learner enrolled in one of `run_ids` (ids, or a Select of them): run_id, person_id,
    the sessions held since they enrolled (`counted`) and how many of those they attended.

    A session counts for a learner only if it started at or after their enrolment, so
    someone enrolled late is not absent for what happened before. The roll-call's rates,
    the manager's learners at risk and the donor reports all count from this one query.
    """
    held = (
        sa.select(CourseSession.id, CourseSession.run_id, CourseSession.starts_at)
        .where(
            CourseSession.run_id.in_(run_ids),
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at <= now,
        )
        .subquery()
    )
    counts_from = sa.func.coalesce(Enrollment.enrolled_at, Enrollment.requested_at)
    attended = sa.and_(Attendance.id.is_not(None), Attendance.status.in_(ATTENDED))
    return (
        sa.select(
            Enrollment.run_id,
            Enrollment.person_id,
            sa.func.count(held.c.id).label("counted"),
            sa.func.count(Attendance.id).filter(attended).label("attended"),
        )
        .outerjoin(
            held, sa.and_(held.c.run_id == Enrollment.run_id, held.c.starts_at >= counts_from)
        )
        .outerjoin(
            Attendance,
            sa.and_(
                Attendance.session_id == held.c.id, Attendance.person_id == Enrollment.person_id
            ),
        )
        .where(Enrollment.run_id.in_(run_ids), Enrollment.status == EnrollmentStatus.ENROLLED)
        .group_by(Enrollment.run_id, Enrollment.person_id)
    )


def attendance_rates(run: CourseRun, now: datetime) -> list[LearnerRate]:
    """Per enrolled learner: sessions held since they enrolled, and how many they attended."""
    rates = enrolment_attendance([run.id], now).subquery()
    rows = db.session.execute(
        sa.select(Person.id, Person.first_name, Person.last_name, rates.c.counted, rates.c.attended)
        .join(rates, rates.c.person_id == Person.id)
        .order_by(Person.last_name, Person.first_name)
    ).all()
    threshold = run.programme.attendance_threshold
    return [
        LearnerRate(
            person_id=r.id,
            name=f"{r.last_name}, {r.first_name}",
            municipality=None,
            counted=r.counted,
            attended=r.attended,
            threshold=threshold,
        )
        for r in rows
    ]


@dataclass
class Register:
    sessions: list[CourseSession]
    learners: list[Enrollment]
    marks: dict[tuple[int, int], Attendance]
    rates: dict[int, LearnerRate]

    def cell(self, session: CourseSession, enrollment: Enrollment) -> str:
        """present / late / excused / absent, "" before the learner enrolled or not yet held."""
        mark = self.marks.get((session.id, enrollment.person_id))
        if mark:
            return str(mark.status)
        return ""


def register(run: CourseRun, now: datetime) -> Register:
    """Sessions × learners: four queries whatever the size of the course."""
    from app.enrollment.queries import roster

    sessions = run_sessions(run.id, include_cancelled=False)
    learners = roster(run.id)
    marks = {
        (m.session_id, m.person_id): m
        for m in db.session.scalars(
            sa.select(Attendance)
            .join(CourseSession, CourseSession.id == Attendance.session_id)
            .where(CourseSession.run_id == run.id)
        )
    }
    rates = {r.person_id: r for r in attendance_rates(run, now)}
    return Register(sessions=sessions, learners=learners, marks=marks, rates=rates)

"""What a manager sees first: this period's key numbers against target, the latest sessions,
learners falling behind and certificates still being made. A handful of queries per programme."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app.attendance.models import ATTENDED, Attendance, CourseSession, SessionStatus
from app.attendance.queries import enrolment_attendance
from app.certificates.models import Certificate, CertificateStatus
from app.courses.models import Course, CourseRun
from app.extensions import db
from app.people.models import Person
from app.programmes.models import Programme

from .aggregate import TOTAL, compute
from .materialise import reused
from .measures import MEASURES
from .models import Indicator, IndicatorTarget
from .scope import Scope

KEY_MEASURES = ("people_trained", "participations", "sessions_held", "certificates_issued")
AT_RISK_LIMIT = 10


@dataclass(frozen=True)
class KeyNumber:
    label: str
    actual: float | None
    target: float | None
    unit: str


def current_period(programme: Programme, today: date) -> tuple[str, date, date]:
    for period in programme.periods:
        if period.starts_on <= today <= period.ends_on:
            return period.name, period.starts_on, period.ends_on
    return programme.code, programme.starts_on, min(programme.ends_on, today)


def key_numbers(programme: Programme, now: datetime) -> tuple[str, list[KeyNumber]]:
    """The headline measures for the current reporting period, with the logframe's targets
    when an indicator uses the measure."""
    name, starts_on, ends_on = current_period(programme, now.date())
    scope = Scope(programme.id, starts_on, ends_on, programme.attendance_threshold, now)
    period_id = next(
        (p.id for p in programme.periods if (p.starts_on, p.ends_on) == (starts_on, ends_on)), None
    )
    targets = dict(
        db.session.execute(
            sa.select(Indicator.measure, IndicatorTarget.value)
            .join(IndicatorTarget, IndicatorTarget.indicator_id == Indicator.id)
            .where(Indicator.programme_id == programme.id, IndicatorTarget.period_id == period_id)
        ).all()
    )
    with reused(scope) as reusing:
        actuals = {key: compute(MEASURES[key], reusing)[TOTAL].value for key in KEY_MEASURES}
    numbers = [
        KeyNumber(
            label=str(MEASURES[key].label),
            actual=actuals[key],
            target=targets.get(key),
            unit=MEASURES[key].unit.value,
        )
        for key in KEY_MEASURES
    ]
    return name, numbers


def latest_sessions(programme_ids: list[int], now: datetime, limit: int = 5) -> list[sa.Row]:
    """Sessions held lately, with how many were marked present or late."""
    present = sa.func.count(Attendance.id).filter(Attendance.status.in_(ATTENDED))
    return db.session.execute(
        sa.select(
            CourseSession.id,
            CourseSession.starts_at,
            Course.code,
            Course.title_en,
            present.label("present"),
        )
        .join(CourseRun, CourseRun.id == CourseSession.run_id)
        .join(Course, Course.id == CourseRun.course_id)
        .outerjoin(Attendance, Attendance.session_id == CourseSession.id)
        .where(
            CourseRun.programme_id.in_(programme_ids),
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at <= now,
        )
        .group_by(CourseSession.id, CourseSession.starts_at, Course.code, Course.title_en)
        .order_by(CourseSession.starts_at.desc())
        .limit(limit)
    ).all()


def at_risk(programme_ids: list[int], now: datetime) -> list[sa.Row]:
    """Learners of courses under way whose attendance so far is below their programme's threshold."""
    today = now.date()
    under_way = sa.select(CourseRun.id).where(
        CourseRun.programme_id.in_(programme_ids),
        CourseRun.starts_on <= today,
        CourseRun.ends_on >= today,
    )
    rates = enrolment_attendance(under_way, now).subquery()
    return db.session.execute(
        sa.select(
            Person.id.label("person_id"),
            Person.first_name,
            Person.last_name,
            CourseRun.id.label("run_id"),
            Course.code,
            rates.c.counted,
            rates.c.attended,
        )
        .select_from(rates)
        .join(Person, Person.id == rates.c.person_id)
        .join(CourseRun, CourseRun.id == rates.c.run_id)
        .join(Programme, Programme.id == CourseRun.programme_id)
        .join(Course, Course.id == CourseRun.course_id)
        .where(
            rates.c.counted > 0,
            rates.c.attended * 100 < Programme.attendance_threshold * rates.c.counted,
        )
        .order_by(rates.c.attended * 1.0 / rates.c.counted, Person.last_name)
        .limit(AT_RISK_LIMIT)
    ).all()


def certificates_pending(programme_ids: list[int]) -> int:
    """Certificates claimed but whose PDF is not written yet (the queue is on it)."""
    return db.session.scalar(
        sa.select(sa.func.count(Certificate.id))
        .join(CourseRun, CourseRun.id == Certificate.run_id)
        .where(
            CourseRun.programme_id.in_(programme_ids),
            Certificate.status == CertificateStatus.PENDING,
        )
    )


def for_manager(programmes: list[Programme], now: datetime) -> dict:
    ids = [p.id for p in programmes]
    running = [p for p in programmes if p.starts_on <= now.date() <= p.ends_on][:3]
    return {
        "key_numbers": [(p, *key_numbers(p, now)) for p in running],
        "latest_sessions": latest_sessions(ids, now),
        "at_risk": at_risk(ids, now),
        "certificates_pending": certificates_pending(ids),
    }

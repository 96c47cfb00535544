"""Reads for the logframe and report pages."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.attendance.models import CourseSession
from app.auth.models import User
from app.courses.models import Course, CourseRun
from app.extensions import db
from app.people.models import Institution, Person
from app.places.models import Municipality

from .models import Indicator, IndicatorTarget, ManualValue, ReportExport, ReportSnapshot

DRILL_LIMIT = 500


def indicators(programme_id: int) -> list[Indicator]:
    return list(
        db.session.scalars(
            sa.select(Indicator)
            .where(Indicator.programme_id == programme_id)
            .order_by(Indicator.position, Indicator.code)
        )
    )


def targets(indicator_ids: list[int]) -> dict[tuple[int, int], float]:
    rows = db.session.execute(
        sa.select(
            IndicatorTarget.indicator_id, IndicatorTarget.period_id, IndicatorTarget.value
        ).where(IndicatorTarget.indicator_id.in_(indicator_ids))
    )
    return {(r.indicator_id, r.period_id): r.value for r in rows}


def manual_values(indicator_id: int) -> list[ManualValue]:
    return list(
        db.session.scalars(
            sa.select(ManualValue)
            .options(
                so.joinedload(ManualValue.period),
                so.joinedload(ManualValue.entered_by).joinedload(User.person),
            )
            .where(ManualValue.indicator_id == indicator_id)
        )
    )


def load_indicator(indicator_id: int) -> Indicator | None:
    return db.session.scalar(
        sa.select(Indicator)
        .options(so.joinedload(Indicator.programme))
        .where(Indicator.id == indicator_id)
    )


def exports(programme_id: int, limit: int = 50) -> list[ReportExport]:
    return list(
        db.session.scalars(
            sa.select(ReportExport)
            .options(
                so.joinedload(ReportExport.user).joinedload(User.person),
                so.joinedload(ReportExport.snapshot),
            )
            .where(ReportExport.programme_id == programme_id)
            .order_by(ReportExport.created_at.desc(), ReportExport.id.desc())
            .limit(limit)
        )
    )


def snapshots(programme_id: int) -> list[ReportSnapshot]:
    return list(
        db.session.scalars(
            sa.select(ReportSnapshot)
            .options(so.joinedload(ReportSnapshot.created_by).joinedload(User.person))
            .where(ReportSnapshot.programme_id == programme_id)
            .order_by(ReportSnapshot.created_at.desc(), ReportSnapshot.id.desc())
        )
    )


def people(ids: sa.Select) -> list[sa.Row]:
    """Names behind a number, for those allowed to see them."""
    return db.session.execute(
        sa.select(
            Person.id,
            Person.first_name,
            Person.last_name,
            Person.sex,
            Municipality.code.label("municipality"),
        )
        .outerjoin(Municipality, Municipality.id == Person.municipality_id)
        .where(Person.id.in_(ids))
        .order_by(Person.last_name, Person.first_name, Person.id)
        .limit(DRILL_LIMIT)
    ).all()


def sessions(ids: sa.Select) -> list[sa.Row]:
    return db.session.execute(
        sa.select(
            CourseSession.id,
            CourseSession.starts_at,
            CourseSession.ends_at,
            CourseSession.venue,
            CourseRun.id.label("run_id"),
            Course.title_en,
            Course.code,
        )
        .join(CourseRun, CourseRun.id == CourseSession.run_id)
        .join(Course, Course.id == CourseRun.course_id)
        .where(CourseSession.id.in_(ids))
        .order_by(CourseSession.starts_at)
        .limit(DRILL_LIMIT)
    ).all()


def count(ids: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery()))


def municipalities(ids: sa.Select) -> list[sa.Row]:
    return db.session.execute(
        sa.select(Municipality.name_sq.label("name"))
        .where(Municipality.id.in_(ids))
        .order_by(Municipality.name_sq)
    ).all()


def institutions(ids: sa.Select) -> list[sa.Row]:
    return db.session.execute(
        sa.select(Institution.name).where(Institution.id.in_(ids)).order_by(Institution.name)
    ).all()

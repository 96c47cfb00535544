"""Reads for the catalogue and course pages: constant query counts, aggregates in SQL."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.enrollment.models import Enrollment, EnrollmentStatus
from app.extensions import db
from app.programmes.models import Programme

from .models import Course, CourseCompetence, CourseRun, CourseRunTrainer, CourseTopic, Module


@dataclass
class CatalogueFilters:
    q: str | None = None
    topic: str | None = None
    competence: str | None = None
    municipality_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    language: str | None = None
    seats_left: bool = False
    programme_id: int | None = None


def enrolled_count_subquery():
    return (
        sa.select(Enrollment.run_id, sa.func.count(Enrollment.id).label("taken"))
        .where(Enrollment.status == EnrollmentStatus.ENROLLED)
        .group_by(Enrollment.run_id)
        .subquery()
    )


def catalogue_query(filters: CatalogueFilters) -> sa.Select:
    taken = enrolled_count_subquery()
    query = (
        sa.select(CourseRun)
        .join(CourseRun.course)
        .outerjoin(taken, taken.c.run_id == CourseRun.id)
        .where(CourseRun.published.is_(True))
        .options(
            so.contains_eager(CourseRun.course),
            so.joinedload(CourseRun.municipality),
            so.joinedload(CourseRun.programme),
        )
        .order_by(CourseRun.starts_on, CourseRun.id)
    )
    if filters.q:
        like = f"%{filters.q.strip()}%"
        query = query.where(
            sa.or_(
                Course.title_en.ilike(like),
                Course.title_sq.ilike(like),
                Course.title_sr.ilike(like),
                Course.summary_en.ilike(like),
                Course.code.ilike(like),
            )
        )
    if filters.topic:
        query = query.where(
            Course.id.in_(
                sa.select(CourseTopic.course_id).where(CourseTopic.topic == filters.topic)
            )
        )
    if filters.competence:
        query = query.where(
            Course.id.in_(
                sa.select(CourseCompetence.course_id).where(
                    CourseCompetence.code == filters.competence
                )
            )
        )
    if filters.municipality_id:
        query = query.where(CourseRun.municipality_id == filters.municipality_id)
    if filters.date_from:
        query = query.where(CourseRun.ends_on >= filters.date_from)
    if filters.date_to:
        query = query.where(CourseRun.starts_on <= filters.date_to)
    if filters.language:
        query = query.where(CourseRun.language == filters.language)
    if filters.programme_id:
        query = query.where(CourseRun.programme_id == filters.programme_id)
    if filters.seats_left:
        query = query.where(sa.func.coalesce(taken.c.taken, 0) < CourseRun.capacity)
    return query


def seats_taken_by_run(run_ids: list[int]) -> dict[int, int]:
    if not run_ids:
        return {}
    rows = db.session.execute(
        sa.select(Enrollment.run_id, sa.func.count(Enrollment.id))
        .where(Enrollment.run_id.in_(run_ids), Enrollment.status == EnrollmentStatus.ENROLLED)
        .group_by(Enrollment.run_id)
    )
    return dict(rows.all())


def counts_by_status(run_ids: list[int]) -> dict[int, dict[str, int]]:
    result = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return result
    rows = db.session.execute(
        sa.select(Enrollment.run_id, Enrollment.status, sa.func.count(Enrollment.id))
        .where(Enrollment.run_id.in_(run_ids))
        .group_by(Enrollment.run_id, Enrollment.status)
    )
    for run_id, status, count in rows:
        result[run_id][str(status)] = count
    return result


def programme_choices() -> list[tuple[str, str]]:
    """Programmes that have something in the catalogue."""
    rows = db.session.execute(
        sa.select(Programme.id, Programme.name)
        .where(
            Programme.id.in_(sa.select(CourseRun.programme_id).where(CourseRun.published.is_(True)))
        )
        .order_by(Programme.name)
    )
    return [(str(pid), name) for pid, name in rows]


def topics_in_use() -> list[str]:
    return list(
        db.session.scalars(sa.select(CourseTopic.topic).distinct().order_by(CourseTopic.topic))
    )


def load_course(slug: str) -> Course | None:
    return db.session.scalar(
        sa.select(Course)
        .where(Course.slug == slug)
        .options(
            so.selectinload(Course.modules).selectinload(Module.lessons),
            so.selectinload(Course.competences),
            so.selectinload(Course.topics),
        )
    )


def load_run(run_id: int) -> CourseRun | None:
    return db.session.scalar(
        sa.select(CourseRun)
        .where(CourseRun.id == run_id)
        .options(
            so.joinedload(CourseRun.course)
            .selectinload(Course.modules)
            .selectinload(Module.lessons),
            so.joinedload(CourseRun.course).selectinload(Course.competences),
            so.joinedload(CourseRun.municipality),
            so.joinedload(CourseRun.programme),
            so.selectinload(CourseRun.trainer_rows).joinedload(CourseRunTrainer.user),
        )
    )


def runs_of_course(course_id: int) -> list[CourseRun]:
    return list(
        db.session.scalars(
            sa.select(CourseRun)
            .where(CourseRun.course_id == course_id, CourseRun.published.is_(True))
            .options(so.joinedload(CourseRun.municipality))
            .order_by(CourseRun.starts_on)
        )
    )


def runs_taught_by(user_id: int) -> list[CourseRun]:
    return list(
        db.session.scalars(
            sa.select(CourseRun)
            .join(CourseRunTrainer, CourseRunTrainer.run_id == CourseRun.id)
            .where(CourseRunTrainer.user_id == user_id)
            .options(so.joinedload(CourseRun.course), so.joinedload(CourseRun.municipality))
            .order_by(CourseRun.starts_on.desc())
        )
    )


def runs_in_programmes(programme_ids: set[int] | None) -> sa.Select:
    query = (
        sa.select(CourseRun)
        .options(
            so.joinedload(CourseRun.course),
            so.joinedload(CourseRun.municipality),
            so.joinedload(CourseRun.programme),
        )
        .order_by(CourseRun.starts_on.desc(), CourseRun.id.desc())
    )
    if programme_ids is not None:
        query = query.where(CourseRun.programme_id.in_(programme_ids or {-1}))
    return query

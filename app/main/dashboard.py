"""What the start page shows each role; every list is one query."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User
from app.auth.roles import Role
from app.courses.models import Course, CourseRun
from app.courses.queries import counts_by_status, runs_taught_by
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.enrollment.queries import my_enrollments
from app.extensions import db
from app.people.models import Person
from app.permissions import managed_programme_ids
from app.places.models import Municipality
from app.programmes.models import Programme
from app.reports import dashboard as reports_dashboard
from app.timeutil import utcnow


def public_summary() -> dict:
    today = utcnow().date()
    upcoming = db.session.scalars(
        sa.select(CourseRun)
        .where(CourseRun.published.is_(True), CourseRun.ends_on >= today)
        .options(so.joinedload(CourseRun.course), so.joinedload(CourseRun.municipality))
        .order_by(CourseRun.starts_on)
        .limit(6)
    ).all()
    return {
        "upcoming": upcoming,
        "course_count": db.session.scalar(sa.select(sa.func.count(Course.id))),
        "municipality_count": db.session.scalar(
            sa.select(sa.func.count(sa.distinct(CourseRun.municipality_id)))
        ),
        "municipalities_total": db.session.scalar(sa.select(sa.func.count(Municipality.id))),
    }


def for_user(user: User) -> dict:
    data = {
        "enrollments": [
            e for e in my_enrollments(user.person_id) if e.status != EnrollmentStatus.WITHDRAWN
        ]
    }
    if user.has_role(Role.TRAINER):
        runs = runs_taught_by(user.id)
        data["teaching"] = runs
        data["teaching_counts"] = counts_by_status([r.id for r in runs])
    if user.is_admin or user.has_role(Role.MANAGER):
        managed = managed_programme_ids(user)
        data["programmes"] = managed_programmes_summary(managed)
        data.update(reports_dashboard.for_manager(_programmes(managed), utcnow()))
    if user.is_admin:
        data["admin_counts"] = {
            "users": db.session.scalar(sa.select(sa.func.count(User.id))),
            "people": db.session.scalar(sa.select(sa.func.count(Person.id))),
            "programmes": db.session.scalar(sa.select(sa.func.count(Programme.id))),
            "courses": db.session.scalar(sa.select(sa.func.count(Course.id))),
        }
    return data


def _programmes(programme_ids: set[int] | None) -> list[Programme]:
    query = (
        sa.select(Programme)
        .options(so.selectinload(Programme.periods))
        .order_by(Programme.starts_on.desc())
    )
    if programme_ids is not None:
        query = query.where(Programme.id.in_(programme_ids or {-1}))
    return list(db.session.scalars(query))


def managed_programmes_summary(programme_ids: set[int] | None) -> list[sa.Row]:
    """Per programme: course runs, people enrolled, requests waiting for approval."""

    def count(status):
        return sa.func.count(sa.distinct(Enrollment.id)).filter(Enrollment.status == status)  # noqa: E731

    query = (
        sa.select(
            Programme.id,
            Programme.code,
            Programme.name,
            Programme.donor,
            sa.func.count(sa.distinct(CourseRun.id)).label("runs"),
            count(EnrollmentStatus.ENROLLED).label("enrolled"),
            count(EnrollmentStatus.PENDING).label("pending"),
            count(EnrollmentStatus.WAITLISTED).label("waitlisted"),
        )
        .outerjoin(CourseRun, CourseRun.programme_id == Programme.id)
        .outerjoin(Enrollment, Enrollment.run_id == CourseRun.id)
        .group_by(Programme.id, Programme.code, Programme.name, Programme.donor)
        .order_by(Programme.starts_on.desc())
    )
    if programme_ids is not None:
        query = query.where(Programme.id.in_(programme_ids or {-1}))
    return db.session.execute(query).all()

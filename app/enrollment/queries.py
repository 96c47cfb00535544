import sqlalchemy as sa
import sqlalchemy.orm as so

from app.courses.models import Course, CourseRun
from app.extensions import db
from app.people.models import Person
from app.places.models import Municipality

from .models import Enrollment, EnrollmentStatus


def enrollment_for(run_id: int, person_id: int) -> Enrollment | None:
    return db.session.scalar(
        sa.select(Enrollment).where(Enrollment.run_id == run_id, Enrollment.person_id == person_id)
    )


def my_enrollments(person_id: int) -> list[Enrollment]:
    return list(
        db.session.scalars(
            sa.select(Enrollment)
            .where(Enrollment.person_id == person_id)
            .options(
                so.joinedload(Enrollment.run).joinedload(CourseRun.course),
                so.joinedload(Enrollment.run).joinedload(CourseRun.municipality),
            )
            .order_by(Enrollment.requested_at.desc())
        )
    )


def roster(run_id: int) -> list[Enrollment]:
    """Enrolled learners, sorted by name, with what the trainer needs to see."""
    return list(
        db.session.scalars(
            sa.select(Enrollment)
            .join(Enrollment.person)
            .where(Enrollment.run_id == run_id, Enrollment.status == EnrollmentStatus.ENROLLED)
            .options(
                so.contains_eager(Enrollment.person).joinedload(Person.municipality),
                so.contains_eager(Enrollment.person).joinedload(Person.institution),
            )
            .order_by(Person.last_name, Person.first_name)
        )
    )


def run_enrollments(run_id: int) -> list[Enrollment]:
    """Every request for the run, for the manager: waiting list in its order."""
    order = sa.case(
        (Enrollment.status == EnrollmentStatus.PENDING, 0),
        (Enrollment.status == EnrollmentStatus.ENROLLED, 1),
        (Enrollment.status == EnrollmentStatus.WAITLISTED, 2),
        else_=3,
    )
    return list(
        db.session.scalars(
            sa.select(Enrollment)
            .join(Enrollment.person)
            .where(Enrollment.run_id == run_id)
            .options(so.contains_eager(Enrollment.person).joinedload(Person.municipality))
            .order_by(order, Enrollment.requested_at, Enrollment.id)
        )
    )


def counts_per_course(programme_id: int) -> list[sa.Row]:
    """Enrolment counts per course run of a programme, by status, in one query."""
    count = lambda status: sa.func.count(Enrollment.id).filter(Enrollment.status == status)  # noqa: E731
    return db.session.execute(
        sa.select(
            CourseRun.id,
            Course.code,
            Course.title_en,
            CourseRun.starts_on,
            CourseRun.capacity,
            count(EnrollmentStatus.ENROLLED).label("enrolled"),
            count(EnrollmentStatus.WAITLISTED).label("waitlisted"),
            count(EnrollmentStatus.PENDING).label("pending"),
            count(EnrollmentStatus.WITHDRAWN).label("withdrawn"),
        )
        .join(Course, Course.id == CourseRun.course_id)
        .outerjoin(Enrollment, Enrollment.run_id == CourseRun.id)
        .where(CourseRun.programme_id == programme_id)
        .group_by(
            CourseRun.id, Course.code, Course.title_en, CourseRun.starts_on, CourseRun.capacity
        )
        .order_by(CourseRun.starts_on)
    ).all()


def counts_per_municipality(programme_id: int) -> list[sa.Row]:
    """Enrolled people per municipality of the person (not of the venue)."""
    return db.session.execute(
        sa.select(
            Municipality.name_sq,
            Municipality.name_sr,
            sa.func.count(Enrollment.id).label("enrolled"),
            sa.func.count(sa.distinct(Enrollment.person_id)).label("people"),
        )
        .select_from(Enrollment)
        .join(CourseRun, CourseRun.id == Enrollment.run_id)
        .join(Person, Person.id == Enrollment.person_id)
        .outerjoin(Municipality, Municipality.id == Person.municipality_id)
        .where(
            CourseRun.programme_id == programme_id, Enrollment.status == EnrollmentStatus.ENROLLED
        )
        .group_by(Municipality.name_sq, Municipality.name_sr)
        .order_by(sa.func.count(Enrollment.id).desc())
    ).all()

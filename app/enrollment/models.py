import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.courses.models import CourseRun
from app.extensions import db, str_enum
from app.people.models import Person
from app.timeutil import utcnow


class EnrollmentStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a manager's approval
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


STATUS_LABELS = {
    EnrollmentStatus.PENDING: _l("Awaiting approval"),
    EnrollmentStatus.ENROLLED: _l("Enrolled"),
    EnrollmentStatus.WAITLISTED: _l("On the waiting list"),
    EnrollmentStatus.WITHDRAWN: _l("Withdrawn"),
    EnrollmentStatus.REJECTED: _l("Not accepted"),
}

# Statuses that hold or wait for a seat; a person in one of them cannot enrol again.
ACTIVE_STATUSES = (EnrollmentStatus.PENDING, EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED)


class EnrollmentSource(enum.StrEnum):
    SELF = "self"
    MANAGER = "manager"
    IMPORT = "import"
    WALK_IN = "walk_in"  # added by a trainer at the door of a session


class Enrollment(db.Model):
    __table_args__ = (sa.UniqueConstraint("run_id", "person_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_run.id", ondelete="CASCADE"), index=True
    )
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    status: so.Mapped[EnrollmentStatus] = so.mapped_column(
        str_enum(EnrollmentStatus, 20), index=True
    )
    source: so.Mapped[EnrollmentSource] = so.mapped_column(
        str_enum(EnrollmentSource, 20), default=EnrollmentSource.SELF
    )
    # Waiting-list order: the earliest request gets the next free seat.
    requested_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    enrolled_at: so.Mapped[datetime | None] = so.mapped_column()
    status_changed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    changed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    run: so.Mapped[CourseRun] = so.relationship()
    person: so.Mapped[Person] = so.relationship()
    changed_by: so.Mapped[User | None] = so.relationship()

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

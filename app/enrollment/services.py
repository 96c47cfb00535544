"""Enrolment rules: windows, seats, approval, the waiting list and its promotion."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.courses.models import CourseRun
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Person
from app.programmes.services import add_participant
from app.timeutil import utcnow

from .models import ACTIVE_STATUSES, Enrollment, EnrollmentSource, EnrollmentStatus


def seats_taken(run: CourseRun) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Enrollment.id)).where(
            Enrollment.run_id == run.id, Enrollment.status == EnrollmentStatus.ENROLLED
        )
    )


def _lock_run(run: CourseRun) -> None:
    # PostgreSQL: serialise seat counting per run. SQLite already holds the write lock
    # (writing requests begin with BEGIN IMMEDIATE), where FOR UPDATE is a no-op.
    db.session.execute(sa.select(CourseRun.id).where(CourseRun.id == run.id).with_for_update())


def _set_status(enrollment: Enrollment, status: EnrollmentStatus, by: User | None, now: datetime):
    enrollment.status = status
    enrollment.status_changed_at = now
    enrollment.changed_by_id = by.id if by else None
    if status == EnrollmentStatus.ENROLLED:
        enrollment.enrolled_at = now


def enrol(
    *,
    run: CourseRun,
    person: Person,
    by: User | None,
    source: EnrollmentSource = EnrollmentSource.SELF,
    now: datetime | None = None,
) -> Enrollment:
    """Enrol a person: a seat if one is free, else the waiting list; approval first if required."""
    now = now or utcnow()
    if not run.published:
        raise DomainError(_("This course is not open for enrolment."))
    if source == EnrollmentSource.SELF and not run.enrolment_open(now):
        raise DomainError(_("Enrolment for this course is closed."))
    _lock_run(run)
    enrollment = db.session.scalar(
        sa.select(Enrollment).where(Enrollment.run_id == run.id, Enrollment.person_id == person.id)
    )
    if enrollment is not None and enrollment.status in ACTIVE_STATUSES:
        raise Conflict(
            _(
                "%(name)s is already on this course (%(status)s).",
                name=person.full_name,
                status=enrollment.status_label,
            )
        )
    if source == EnrollmentSource.SELF and run.requires_approval:
        status = EnrollmentStatus.PENDING
    elif seats_taken(run) < run.capacity:
        status = EnrollmentStatus.ENROLLED
    else:
        status = EnrollmentStatus.WAITLISTED
    if enrollment is None:
        enrollment = Enrollment(run=run, person=person)
        db.session.add(enrollment)
    enrollment.source = source
    enrollment.requested_at = now
    _set_status(enrollment, status, by, now)
    add_participant(programme_id=run.programme_id, person=person)
    db.session.flush()
    return enrollment


def withdraw(
    *, enrollment: Enrollment, by: User | None, now: datetime | None = None
) -> list[Enrollment]:
    """Withdraw; a freed seat goes to the waiting list. Returns the people promoted."""
    now = now or utcnow()
    if enrollment.status not in ACTIVE_STATUSES:
        raise DomainError(_("This enrolment has already ended."))
    _lock_run(enrollment.run)
    held_seat = enrollment.status == EnrollmentStatus.ENROLLED
    _set_status(enrollment, EnrollmentStatus.WITHDRAWN, by, now)
    db.session.flush()
    return promote_waiting(run=enrollment.run, now=now) if held_seat else []


def promote_waiting(*, run: CourseRun, now: datetime | None = None) -> list[Enrollment]:
    """Give free seats to the waiting list in the order people asked."""
    now = now or utcnow()
    free = run.capacity - seats_taken(run)
    if free <= 0:
        return []
    waiting = db.session.scalars(
        sa.select(Enrollment)
        .where(Enrollment.run_id == run.id, Enrollment.status == EnrollmentStatus.WAITLISTED)
        .order_by(Enrollment.requested_at, Enrollment.id)
        .limit(free)
    ).all()
    for enrollment in waiting:
        _set_status(enrollment, EnrollmentStatus.ENROLLED, None, now)
    db.session.flush()
    return list(waiting)


def approve(*, enrollment: Enrollment, by: User, now: datetime | None = None) -> Enrollment:
    now = now or utcnow()
    if enrollment.status != EnrollmentStatus.PENDING:
        raise DomainError(_("Only requests awaiting approval can be approved."))
    _lock_run(enrollment.run)
    status = (
        EnrollmentStatus.ENROLLED
        if seats_taken(enrollment.run) < enrollment.run.capacity
        else EnrollmentStatus.WAITLISTED
    )
    _set_status(enrollment, status, by, now)
    db.session.flush()
    return enrollment


def reject(*, enrollment: Enrollment, by: User, now: datetime | None = None) -> Enrollment:
    if enrollment.status not in (EnrollmentStatus.PENDING, EnrollmentStatus.WAITLISTED):
        raise DomainError(
            _("Only requests awaiting approval or waiting for a seat can be declined.")
        )
    _set_status(enrollment, EnrollmentStatus.REJECTED, by, now or utcnow())
    db.session.flush()
    return enrollment


@dataclass
class BulkResult:
    enrolled: list[Person] = field(default_factory=list)
    waitlisted: list[Person] = field(default_factory=list)
    skipped: list[tuple[Person, str]] = field(default_factory=list)


def bulk_enrol(
    *,
    run: CourseRun,
    people: list[Person],
    by: User,
    source: EnrollmentSource,
    now: datetime | None = None,
) -> BulkResult:
    """Enrol many people at once (manager's choice or an imported list); existing ones are skipped."""
    now = now or utcnow()
    result = BulkResult()
    for person in people:
        try:
            enrollment = enrol(run=run, person=person, by=by, source=source, now=now)
        except DomainError as error:
            result.skipped.append((person, error.message))
            continue
        if enrollment.status == EnrollmentStatus.ENROLLED:
            result.enrolled.append(person)
        else:
            result.waitlisted.append(person)
    return result

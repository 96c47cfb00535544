"""Course runs: scheduling an offering of a course within a programme."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.auth.roles import Role
from app.errors import DomainError
from app.extensions import db
from app.programmes.models import Programme, ProgrammeMember

from .models import Course, CourseRun, CourseRunTrainer


def programme_trainers(programme_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(ProgrammeMember, ProgrammeMember.user_id == User.id)
            .where(
                ProgrammeMember.programme_id == programme_id, ProgrammeMember.role == Role.TRAINER
            )
        )
    )


def save_run(
    run: CourseRun | None,
    *,
    programme: Programme,
    course: Course,
    starts_on: date,
    ends_on: date,
    venue: str,
    municipality_id: int,
    language: str,
    capacity: int,
    enrol_opens_at: datetime,
    enrol_closes_at: datetime,
    requires_approval: bool,
    published: bool,
    trainer_ids: list[int],
) -> CourseRun:
    """Create or update a course run; trainers must be trainers of the programme."""
    if ends_on < starts_on:
        raise DomainError(_("The last day must not be before the first day."), field="ends_on")
    if not (programme.starts_on <= starts_on and ends_on <= programme.ends_on):
        raise DomainError(
            _("The course must take place within the programme's dates."), field="starts_on"
        )
    if enrol_closes_at <= enrol_opens_at:
        raise DomainError(_("Enrolment must close after it opens."), field="enrol_closes_at")
    if capacity < 1:
        raise DomainError(_("A course needs at least one seat."), field="capacity")
    allowed = {u.id for u in programme_trainers(programme.id)}
    unknown = set(trainer_ids) - allowed
    if unknown:
        raise DomainError(_("Trainers must be trainers of this programme."), field="trainer_ids")
    old_capacity = run.capacity if run else None
    if run is None:
        run = CourseRun()
        db.session.add(run)
    run.programme, run.course = programme, course
    run.starts_on, run.ends_on, run.venue = starts_on, ends_on, venue.strip()
    run.municipality_id, run.language, run.capacity = municipality_id, language, capacity
    run.enrol_opens_at, run.enrol_closes_at = enrol_opens_at, enrol_closes_at
    run.requires_approval, run.published = requires_approval, published
    current = {row.user_id for row in run.trainer_rows}
    if current != set(trainer_ids):
        run.trainer_rows = [r for r in run.trainer_rows if r.user_id in trainer_ids] + [
            CourseRunTrainer(user_id=uid) for uid in trainer_ids if uid not in current
        ]
    db.session.flush()
    if old_capacity is not None and capacity > old_capacity:
        from app.enrollment.services import promote_waiting

        promote_waiting(run=run)
    return run

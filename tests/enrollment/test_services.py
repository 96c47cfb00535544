from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.enrollment import services
from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
from app.errors import Conflict, DomainError
from app.extensions import db
from app.programmes.models import ProgrammeParticipant
from tests.conftest import create_person, create_run, create_user


def test_enrol_takes_a_seat_and_adds_participant():
    run = create_run(capacity=2)
    person = create_person()
    enrollment = services.enrol(run=run, person=person, by=None)
    assert enrollment.status == EnrollmentStatus.ENROLLED and enrollment.enrolled_at is not None
    assert db.session.scalar(sa.select(ProgrammeParticipant.person_id)) == person.id


def test_full_course_goes_to_waiting_list_in_order():
    run = create_run(capacity=1)
    first, second, third = create_person(), create_person(), create_person()
    services.enrol(run=run, person=first, by=None)
    now = datetime.now()
    second_e = services.enrol(run=run, person=second, by=None, now=now)
    third_e = services.enrol(run=run, person=third, by=None, now=now + timedelta(seconds=1))
    assert second_e.status == third_e.status == EnrollmentStatus.WAITLISTED


def test_withdraw_promotes_the_earliest_waiting():
    run = create_run(capacity=1)
    holder, early, late = create_person(), create_person(), create_person()
    seat = services.enrol(run=run, person=holder, by=None)
    now = datetime.now()
    early_e = services.enrol(run=run, person=early, by=None, now=now)
    late_e = services.enrol(run=run, person=late, by=None, now=now + timedelta(minutes=1))
    promoted = services.withdraw(enrollment=seat, by=None)
    assert promoted == [early_e]
    assert (
        early_e.status == EnrollmentStatus.ENROLLED and late_e.status == EnrollmentStatus.WAITLISTED
    )


def test_withdrawing_from_waiting_list_promotes_nobody():
    run = create_run(capacity=1)
    services.enrol(run=run, person=create_person(), by=None)
    waiting = services.enrol(run=run, person=create_person(), by=None)
    assert services.withdraw(enrollment=waiting, by=None) == []


def test_cannot_enrol_twice_but_can_return_after_withdrawing():
    run = create_run()
    person = create_person()
    enrollment = services.enrol(run=run, person=person, by=None)
    with pytest.raises(Conflict):
        services.enrol(run=run, person=person, by=None)
    services.withdraw(enrollment=enrollment, by=None)
    again = services.enrol(run=run, person=person, by=None)
    assert again.id == enrollment.id and again.status == EnrollmentStatus.ENROLLED
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 1


def test_self_enrolment_respects_the_window():
    now = datetime.now()
    closed = create_run(
        enrol_opens_at=now - timedelta(days=5), enrol_closes_at=now - timedelta(days=1)
    )
    with pytest.raises(DomainError, match="closed"):
        services.enrol(run=closed, person=create_person(), by=None, now=now)
    # A manager may still enrol someone after the window.
    managed = services.enrol(
        run=closed, person=create_person(), by=None, source=EnrollmentSource.MANAGER, now=now
    )
    assert managed.status == EnrollmentStatus.ENROLLED


def test_unpublished_run_refuses_enrolment():
    run = create_run(published=False)
    with pytest.raises(DomainError):
        services.enrol(run=run, person=create_person(), by=None)


def test_approval_flow():
    run = create_run(capacity=1, requires_approval=True)
    manager = create_user()
    first = services.enrol(run=run, person=create_person(), by=None)
    second = services.enrol(run=run, person=create_person(), by=None)
    assert first.status == second.status == EnrollmentStatus.PENDING
    services.approve(enrollment=first, by=manager)
    services.approve(enrollment=second, by=manager)
    assert (
        first.status == EnrollmentStatus.ENROLLED and second.status == EnrollmentStatus.WAITLISTED
    )
    services.reject(enrollment=second, by=manager)
    assert second.status == EnrollmentStatus.REJECTED
    with pytest.raises(DomainError):
        services.approve(enrollment=second, by=manager)


def test_bulk_enrol_reports_each_outcome():
    run = create_run(capacity=2)
    already = create_person()
    services.enrol(run=run, person=already, by=None)
    people = [already, create_person(), create_person()]
    result = services.bulk_enrol(
        run=run, people=people, by=create_user(), source=EnrollmentSource.MANAGER
    )
    assert len(result.enrolled) == 1 and len(result.waitlisted) == 1
    assert result.skipped[0][0] == already


def test_raising_capacity_promotes_waiting(app):
    from app.courses.services import save_run

    run = create_run(capacity=1)
    services.enrol(run=run, person=create_person(), by=None)
    waiting = services.enrol(run=run, person=create_person(), by=None)
    db.session.commit()
    save_run(
        run,
        programme=run.programme,
        course=run.course,
        starts_on=run.starts_on,
        ends_on=run.ends_on,
        venue=run.venue,
        municipality_id=run.municipality_id,
        language=run.language,
        capacity=2,
        enrol_opens_at=run.enrol_opens_at,
        enrol_closes_at=run.enrol_closes_at,
        requires_approval=False,
        published=True,
        trainer_ids=[],
    )
    assert waiting.status == EnrollmentStatus.ENROLLED

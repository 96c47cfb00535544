from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.attendance import services
from app.attendance.models import (
    Attendance,
    AttendanceMark,
    AttendanceStatus,
    Channel,
    Notification,
    SessionStatus,
)
from app.attendance.queries import attendance_rates, register
from app.errors import DomainError
from app.extensions import db
from tests.attendance.helpers import MANAGER, NOON, add_session, run_with_learners
from tests.conftest import create_person, create_user

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)


def mark(session, person, status, at, client_id=None, by=None):
    return services.record_mark(
        session=session,
        person_id=person.id,
        status=status,
        remark=None,
        marked_at=at,
        by=by,
        channel=Channel.OFFLINE_SYNC,
        client_id=client_id,
        now=NOON + timedelta(hours=1),
    )


def test_series_creates_sessions_a_week_apart():
    run, _ = run_with_learners(0)
    sessions = services.schedule_series(
        run=run,
        first_starts_at=NOON,
        first_ends_at=NOON + timedelta(hours=2),
        count=4,
        every_days=7,
        venue="Hall",
        municipality_id=run.municipality_id,
        trainer_id=None,
    )
    assert [s.starts_at for s in sessions] == [NOON + timedelta(days=7 * i) for i in range(4)]
    assert len({s.series_key for s in sessions}) == 1


def test_session_must_end_after_it_starts():
    run, _ = run_with_learners(0)
    with pytest.raises(DomainError):
        services.schedule_session(
            run=run,
            starts_at=NOON,
            ends_at=NOON,
            venue="x",
            municipality_id=run.municipality_id,
            trainer_id=None,
        )


def test_replayed_mark_is_recorded_once():
    run, (person, *_) = run_with_learners()
    session = add_session(run)
    first = mark(session, person, P, NOON, client_id="abc")
    again = mark(session, person, P, NOON, client_id="abc")
    assert first.applied and again.duplicate and again.status == "present"
    assert db.session.scalar(sa.select(sa.func.count(AttendanceMark.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1


def test_latest_mark_by_device_time_wins_whatever_the_arrival_order():
    run, (person, *_) = run_with_learners()
    session = add_session(run)
    newer = mark(session, person, P, NOON + timedelta(minutes=5), client_id="newer")
    older = mark(session, person, A, NOON + timedelta(minutes=1), client_id="older")
    assert newer.applied and not older.applied
    assert older.status == "present"  # what stands is reported back to the losing device
    assert db.session.scalar(sa.select(Attendance.status)) == P
    lost = db.session.scalar(sa.select(AttendanceMark).where(AttendanceMark.client_id == "older"))
    assert lost.applied is False


def test_later_mark_replaces_earlier():
    run, (person, *_) = run_with_learners()
    session = add_session(run)
    mark(session, person, A, NOON)
    result = mark(session, person, L, NOON + timedelta(minutes=3))
    assert result.applied and db.session.scalar(sa.select(Attendance.status)) == L


def test_marks_from_a_future_clock_are_clamped():
    run, (person, *_) = run_with_learners()
    session = add_session(run)
    mark(session, person, P, NOON + timedelta(days=365), client_id="future")
    result = mark(session, person, A, NOON + timedelta(hours=1), client_id="now")
    assert result.applied


def test_only_enrolled_learners_can_be_marked():
    run, _ = run_with_learners()
    session = add_session(run)
    with pytest.raises(DomainError, match="not enrolled"):
        mark(session, create_person(), P, NOON)


def test_mark_all_present_keeps_existing_marks():
    run, (a, b, c) = run_with_learners()
    session = add_session(run)
    mark(session, a, E, NOON)
    assert services.mark_all_present(session=session, by=create_user(), now=NOON) == 2
    statuses = dict(db.session.execute(sa.select(Attendance.person_id, Attendance.status)).all())
    assert statuses == {a.id: E, b.id: P, c.id: P}


def test_moving_and_cancelling_notify_learners_and_bump_sequence():
    run, people = run_with_learners()
    session = add_session(run)
    told = services.move_session(
        session=session,
        starts_at=NOON + timedelta(days=1),
        ends_at=NOON + timedelta(days=1, hours=2),
        venue="New hall",
        municipality_id=run.municipality_id,
        trainer_id=None,
        message="Moved",
    )
    assert told == len(people) and session.sequence == 1
    services.cancel_session(session=session, message="Cancelled")
    assert session.status == SessionStatus.CANCELLED and session.sequence == 2
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2 * len(people)
    with pytest.raises(DomainError):
        mark(session, people[0], P, NOON)


def test_late_enrolment_is_not_counted_absent_for_earlier_sessions():
    from app.enrollment.services import enrol

    run, (early,) = run_with_learners(1)
    first = add_session(run, NOON)
    second = add_session(run, NOON + timedelta(days=7))
    late = create_person()
    enrol(run=run, person=late, by=None, now=NOON + timedelta(days=1), source=MANAGER)
    db.session.commit()
    mark(first, early, P, NOON)
    mark(second, early, A, NOON + timedelta(days=7))
    mark(second, late, P, NOON + timedelta(days=7))
    rates = {r.person_id: r for r in attendance_rates(run, NOON + timedelta(days=8))}
    assert (rates[early.id].counted, rates[early.id].attended) == (2, 1)
    assert (rates[late.id].counted, rates[late.id].attended) == (1, 1)
    assert rates[early.id].below_threshold and not rates[late.id].below_threshold


def test_sessions_not_yet_held_and_cancelled_ones_do_not_count():
    run, (person,) = run_with_learners(1)
    held = add_session(run, NOON)
    add_session(run, NOON + timedelta(days=30))
    cancelled = add_session(run, NOON + timedelta(days=1))
    services.cancel_session(session=cancelled, message="x")
    mark(held, person, L, NOON)
    (rate,) = attendance_rates(run, NOON + timedelta(days=2))
    assert (rate.counted, rate.attended, rate.percent) == (1, 1, 100)


def test_register_cells():
    run, (a, b) = run_with_learners(2)
    session = add_session(run)
    mark(session, a, P, NOON)
    reg = register(run, NOON + timedelta(days=1))
    cells = {e.person_id: reg.cell(session, e) for e in reg.learners}
    assert cells == {a.id: "present", b.id: ""}


def test_qr_check_in_rules():
    run, (person, stranger_enrolled) = run_with_learners(2)
    session = add_session(run)
    user = create_user()
    grace, late_after = timedelta(minutes=30), timedelta(minutes=15)

    def scan(who, at, token=None):
        return services.check_in(
            session=session,
            person=who,
            token=token or services.qr_token(session, at),
            now=at,
            grace=grace,
            late_after=late_after,
            by=user,
        )

    with pytest.raises(DomainError, match="not started"):
        scan(person, NOON - timedelta(hours=1))
    with pytest.raises(DomainError, match="expired"):
        scan(
            person,
            NOON + timedelta(minutes=1),
            token=services.qr_token(session, NOON - timedelta(minutes=5)),
        )
    assert scan(person, NOON + timedelta(minutes=1)).status == "present"
    with pytest.raises(DomainError, match="already checked in"):
        scan(person, NOON + timedelta(minutes=2))
    assert scan(stranger_enrolled, NOON + timedelta(minutes=20)).status == "late"
    with pytest.raises(DomainError, match="not enrolled"):
        scan(create_person(), NOON + timedelta(minutes=20))
    with pytest.raises(DomainError, match="ended"):
        scan(person, NOON + timedelta(hours=4))


def test_walk_in_is_enrolled_from_this_session():
    run, _ = run_with_learners(1, capacity=1)
    session = add_session(run)
    newcomer = create_person(needs_review=True)
    enrollment = services.add_walk_in(session=session, person=newcomer, by=create_user(), now=NOON)
    assert enrollment.status == "enrolled" and enrollment.enrolled_at <= session.starts_at
    result = mark(session, newcomer, P, NOON)
    assert result.applied

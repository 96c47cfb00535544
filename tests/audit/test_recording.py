"""Each audited change writes exactly one event, in the change's own transaction."""

import random
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import audit
from app.admin import services as admin_services
from app.attendance import services as attendance
from app.attendance.models import AttendanceStatus, Channel
from app.attendance.sync import apply_marks
from app.audit.services import pending_count
from app.auth.roles import Role
from app.certificates import services as certificates
from app.certificates.models import CertificateStatus
from app.courses.models import CourseRunTrainer
from app.errors import DomainError
from app.extensions import db
from app.programmes import services as programme_services
from app.programmes.models import ProgrammeMember
from app.quizzes import services as quizzes
from app.reports import services as report_services
from app.reports.compute import compute_report
from app.reports.models import ExportFormat
from app.timeutil import utcnow
from tests.attendance.helpers import NOON, add_session, run_with_learners
from tests.audit.helpers import capture_statements, events
from tests.certificates.helpers import finished_run
from tests.conftest import create_programme, create_run, create_user
from tests.quizzes.factories import enrolled_learner, make_bank, make_quiz, right_values

# --- attendance -------------------------------------------------------------------------------


def _mark(session, person, status, by, **extra):
    return attendance.record_mark(
        session=session,
        person_id=person.id,
        status=status,
        remark="Came late because of her child",  # free text: never audited
        marked_at=extra.pop("marked_at", NOON),
        by=by,
        channel=Channel.ROLL_CALL,
        now=NOON + timedelta(hours=1),
        **extra,
    )


def test_a_mark_writes_one_event_with_before_after_and_actor(app):
    run, (person, *_others) = run_with_learners(2)
    session = add_session(run)
    trainer = create_user(Role.TRAINER)
    _mark(session, person, AttendanceStatus.PRESENT, trainer)
    db.session.commit()
    _mark(session, person, AttendanceStatus.EXCUSED, trainer, marked_at=NOON + timedelta(minutes=5))
    db.session.commit()
    first, second = events()
    assert (first.action, first.actor_id, first.person_id, first.run_id) == (
        "attendance.mark",
        trainer.id,
        person.id,
        run.id,
    )
    assert (first.subject_type, first.subject_id) == ("session", session.id)
    assert first.before == {"status": None}
    assert first.after == {"status": "present", "channel": "roll_call"}
    assert second.before == {"status": "present"}
    assert second.after == {"status": "excused", "channel": "roll_call"}
    assert "child" not in str(first.after) + str(second.after)


def test_a_replayed_mark_writes_nothing_and_a_losing_mark_says_so(app):
    run, (person,) = run_with_learners(1)
    session = add_session(run)
    _mark(session, person, AttendanceStatus.PRESENT, None, client_id="device-mark-1")
    _mark(session, person, AttendanceStatus.PRESENT, None, client_id="device-mark-1")
    # Made earlier on its device than the mark that stands: kept, but it changes nothing.
    _mark(session, person, AttendanceStatus.ABSENT, None, marked_at=NOON - timedelta(hours=1))
    db.session.commit()
    first, lost = events()
    assert first.actor_id is None
    assert lost.before == {"status": "present"}
    assert lost.after == {"status": "absent", "channel": "roll_call", "applied": False}


def test_a_rolled_back_mark_leaves_no_event(app):
    run, (person,) = run_with_learners(1)
    session = add_session(run)
    _mark(session, person, AttendanceStatus.PRESENT, None)
    assert pending_count() == 1
    db.session.rollback()
    assert pending_count() == 0
    db.session.commit()
    assert events() == []


def test_a_rolled_back_savepoint_drops_only_its_own_events(app):
    run, (first, second) = run_with_learners(2)
    session = add_session(run)
    _mark(session, first, AttendanceStatus.PRESENT, None)
    with pytest.raises(RuntimeError), db.session.begin_nested():
        _mark(session, second, AttendanceStatus.PRESENT, None)
        raise RuntimeError("this mark fails after being recorded")
    with db.session.begin_nested():  # a released savepoint keeps its events
        _mark(session, second, AttendanceStatus.LATE, None)
    db.session.commit()
    assert [(e.person_id, e.after["status"]) for e in events()] == [
        (first.id, "present"),
        (second.id, "late"),
    ]


def test_a_refused_mark_records_nothing(app):
    run, _people = run_with_learners(1)
    session = add_session(run)
    stranger = create_user()
    with pytest.raises(DomainError):
        _mark(session, stranger.person, AttendanceStatus.PRESENT, None)
    db.session.commit()
    assert events() == []


def _sync_world(n):
    run, people = run_with_learners(n, capacity=n)
    session = add_session(run, starts_at=utcnow().replace(microsecond=0) - timedelta(hours=1))
    trainer = create_user(Role.TRAINER)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    marks = [
        {
            "client_id": str(uuid.uuid4()),
            "session_id": session.id,
            "person_id": person.id,
            "status": "present",
            "marked_at": (session.starts_at + timedelta(minutes=1)).isoformat() + "Z",
        }
        for person in people
    ]
    return trainer, marks


@pytest.mark.parametrize("n", [3, 12])
def test_a_batch_of_marks_is_audited_by_one_statement(app, n):
    trainer, marks = _sync_world(n)
    with capture_statements() as statements:
        results = apply_marks(marks=marks, user=trainer, now=utcnow())
        db.session.commit()
    assert all(r["ok"] for r in results)
    assert len(statements.writing_audit()) == 1
    written = events("attendance.mark")
    assert len(written) == n and {e.actor_id for e in written} == {trainer.id}


def test_the_audit_adds_no_statement_per_mark(app):
    """The batch costs the same per mark as before the audit trail: the standing status is
    read by the enrolment check that was already there, and the events go in one INSERT."""

    def statements_for(n):
        trainer, marks = _sync_world(n)
        with capture_statements() as statements:
            apply_marks(marks=marks, user=trainer, now=utcnow())
            db.session.commit()
        assert [s for s in statements if "audit_event" in s] == statements.writing_audit()
        return len(statements)

    small, large = statements_for(4), statements_for(12)
    # Nine statements per mark in a batch were measured on the code before the audit trail
    # (savepoint, reloads after expire_all, enrolment check, two inserts, read-back, release).
    assert (large - small) / 8 <= 9


def test_ticking_who_came_to_an_activity_audits_each_change_in_one_statement(app):
    from app.activities import services as activities
    from app.activities.models import ActivityParticipant
    from tests.activities.helpers import create_activity
    from tests.conftest import create_person

    programme = create_programme()
    activity = create_activity(programme)
    people = [create_person() for _ in range(4)]
    rows = [ActivityParticipant(activity=activity, person=p, attended=False) for p in people]
    db.session.add_all(rows)
    rows[0].attended = True
    db.session.commit()
    with capture_statements() as statements:
        activities.set_attendance(activity=activity, attended_ids={rows[1].id, rows[2].id})
        db.session.commit()
    assert len(statements.writing_audit()) == 1
    changed = [(e.person_id, e.before, e.after) for e in events("activity.attendance")]
    assert sorted(changed, key=lambda c: c[0]) == [
        (people[0].id, {"attended": True}, {"attended": False}),
        (people[1].id, {"attended": False}, {"attended": True}),
        (people[2].id, {"attended": False}, {"attended": True}),
    ]
    assert {e.programme_id for e in events()} == {programme.id}


# --- quizzes ----------------------------------------------------------------------------------


@pytest.fixture
def quiz_world():
    run = create_run()
    bank = make_bank(run.course)
    learner = enrolled_learner(run)
    quiz = make_quiz(run, bank, pass_mark=50, opens_at=utcnow() - timedelta(days=1))
    return run, quiz, learner


def _take(quiz, person, right=None):
    now = utcnow()
    attempt = quizzes.start_attempt(quiz=quiz, person=person, now=now, rng=random.Random(3))
    values = right_values(attempt)
    for position, fields in list(values.items())[: right if right is not None else len(values)]:
        quizzes.save_answer(attempt=attempt, position=position, values=fields, now=now)
    db.session.commit()
    return attempt


def test_grading_a_submitted_attempt_writes_one_event(quiz_world):
    run, quiz, learner = quiz_world
    attempt = _take(quiz, learner.person)
    quizzes.submit_attempt(attempt=attempt, now=utcnow())
    db.session.commit()
    (event,) = events()
    assert (event.action, event.subject_type, event.subject_id) == (
        "quiz.grade",
        "attempt",
        attempt.id,
    )
    assert (event.person_id, event.run_id, event.actor_id) == (learner.person_id, run.id, None)
    assert event.before is None
    assert event.after == {
        "quiz_id": quiz.id,
        "state": "submitted",
        "score": attempt.score,
        "max_score": attempt.max_score,
        "percent": 100.0,
        "passed": True,
    }


def test_an_attempt_closed_at_its_deadline_is_graded_by_the_system(quiz_world):
    _run, quiz, learner = quiz_world
    quiz.time_limit_minutes = 5
    db.session.commit()
    attempt = _take(quiz, learner.person, right=0)
    closed = quizzes.close_expired_attempts(now=utcnow() + timedelta(hours=1))
    db.session.commit()
    assert closed == 1
    (event,) = events("quiz.grade")
    assert event.actor_id is None and event.after["state"] == "timed_out"
    assert event.after["passed"] is False and event.subject_id == attempt.id


def test_a_new_pass_mark_audits_the_attempts_whose_outcome_changes(quiz_world):
    run, quiz, learner = quiz_world
    other = enrolled_learner(run)
    half = _take(quiz, learner.person, right=3)  # 50 %
    full = _take(quiz, other.person)  # 100 %
    for attempt in (half, full):
        quizzes.submit_attempt(attempt=attempt, now=utcnow())
    db.session.commit()
    settings = {
        c: getattr(quiz, c) for c in ("title", "kind", "per_competence", "opens_at", "closes_at")
    }
    with capture_statements() as statements:
        quizzes.update_quiz(quiz, bank=quiz.bank, **settings, pass_mark=60.0)
        db.session.commit()
    assert len(statements.writing_audit()) == 1
    (event,) = events("quiz.regrade")
    assert (event.subject_id, event.person_id) == (half.id, learner.person_id)
    assert event.before == {"passed": True, "pass_mark": 50.0}
    assert event.after == {"passed": False, "pass_mark": 60.0}
    assert event.actor_id is None  # no request: the system is its actor


# --- certificates -----------------------------------------------------------------------------


def test_issue_revoke_and_reissue_write_one_event_each(app):
    world = finished_run(2)
    admin = create_user(Role.ADMIN)
    issued = certificates.issue_due_certificates(world.run, by=admin)
    db.session.commit()
    issue_events = events("certificate.issue")
    assert sorted((e.subject_id, e.person_id) for e in issue_events) == sorted(
        (c.id, c.person_id) for c in issued
    )
    assert {e.actor_id for e in issue_events} == {admin.id}
    assert {e.programme_id for e in issue_events} == {world.run.programme_id}
    first = issue_events[0]
    assert first.after["status"] == "pending" and first.after["kind"] in (
        "completion",
        "attendance",
    )

    revoked, kept = (db.session.get(type(issued[0]), c.id) for c in issued)
    certificates.revoke(revoked, by=admin, reason="Ana Krasniqi did not attend")
    db.session.commit()
    (revoke,) = events("certificate.revoke")
    assert revoke.before == {"status": "valid"} and revoke.after == {"status": "revoked"}
    assert "Krasniqi" not in str(revoke.before) + str(revoke.after)

    new = certificates.reissue(kept, by=admin, reason="Name corrected")
    db.session.commit()
    (reissue,) = events("certificate.reissue")
    assert reissue.subject_id == kept.id and reissue.actor_id == admin.id
    assert reissue.before == {"status": "valid", "number": kept.number}
    assert reissue.after == {
        "status": CertificateStatus.SUPERSEDED.value,
        "replaced_by": new.id,
        "number": new.number,
    }
    assert len(events("certificate.issue")) == 2  # a re-issue is not also an issue


def test_certificates_issued_at_commit_by_progress_are_audited(app):
    """Marks after the course make certificates due inside the commit; their events are
    written by that same commit."""
    world = finished_run(1, attended=0, sessions=1)
    attendance.record_mark(
        session=world.sessions[0],
        person_id=world.people[0].id,
        status=AttendanceStatus.PRESENT,
        remark=None,
        marked_at=world.sessions[0].starts_at,
        by=world.trainer,
        channel=Channel.ROLL_CALL,
    )
    db.session.commit()
    assert [e.action for e in events()] == ["attendance.mark", "certificate.issue"]


# --- roles ------------------------------------------------------------------------------------


def test_account_roles_granted_and_removed_with_their_programme_scopes(app):
    programme = create_programme()
    admin = create_user(Role.ADMIN)
    user = create_user(Role.TRAINER, programme=programme)
    admin_services.update_account(user=user, roles={Role.MANAGER}, active=True, by=admin)
    db.session.commit()
    rows = [
        (e.action, e.before, e.after, e.programme_id, e.actor_id, e.subject_id, e.person_id)
        for e in events()
    ]
    assert rows == [
        (
            "role.grant",
            {"role": None},
            {"role": "manager"},
            None,
            admin.id,
            user.id,
            user.person_id,
        ),
        (
            "role.revoke",
            {"role": "trainer"},
            {"role": None},
            None,
            admin.id,
            user.id,
            user.person_id,
        ),
        (
            "role.revoke",
            {"role": "trainer"},
            {"role": None},
            programme.id,
            admin.id,
            user.id,
            user.person_id,
        ),
    ]


def test_unchanged_roles_write_nothing(app):
    admin = create_user(Role.ADMIN)
    user = create_user(Role.TRAINER)
    admin_services.set_roles(user=user, roles={Role.TRAINER}, by=admin)
    db.session.commit()
    assert events() == []


def test_programme_membership_added_and_removed(app):
    programme = create_programme()
    user = create_user(Role.LEARNER)
    member = programme_services.add_member(programme=programme, user=user, role=Role.TRAINER)
    db.session.commit()
    assert [(e.action, e.programme_id, e.after) for e in events()] == [
        ("role.grant", None, {"role": "trainer"}),
        ("role.grant", programme.id, {"role": "trainer"}),
    ]
    programme_services.remove_member(member=db.session.get(ProgrammeMember, member.id))
    db.session.commit()
    (removed,) = events("role.revoke")
    assert (removed.programme_id, removed.before, removed.subject_id) == (
        programme.id,
        {"role": "trainer"},
        user.id,
    )


def test_an_invited_account_has_its_roles_audited(app):
    user = admin_services.invite_user(
        first_name="Drita",
        last_name="Berisha",
        email="drita@example.org",
        roles={Role.MANAGER, Role.TRAINER},
    )
    db.session.commit()
    assert [(e.action, e.after["role"], e.subject_id) for e in events()] == [
        ("role.grant", "manager", user.id),
        ("role.grant", "trainer", user.id),
    ]


# --- reports ----------------------------------------------------------------------------------


def test_report_export_and_freeze_are_audited(app):
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    report = compute_report(
        programme, starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31), language="en", public=True
    )
    snapshot = report_services.freeze(
        programme=programme, report=report, title="Q1 for Maria Doe", by=manager
    )
    export = report_services.record_export(
        programme=programme, report=report, format=ExportFormat.XLSX, by=manager, snapshot=snapshot
    )
    db.session.commit()
    frozen, exported = events()
    assert (frozen.action, frozen.subject_id, frozen.programme_id, frozen.actor_id) == (
        "report.freeze",
        snapshot.id,
        programme.id,
        manager.id,
    )
    assert "Maria" not in str(frozen.after)
    assert frozen.after["sha256"] == snapshot.sha256
    assert (exported.action, exported.subject_id) == ("report.export", export.id)
    assert exported.after == {
        "format": "xlsx",
        "starts_on": "2026-01-01",
        "ends_on": "2026-03-31",
        "language": "en",
        "public": True,
        "snapshot_id": snapshot.id,
    }


# --- the rule on values -----------------------------------------------------------------------


def test_free_text_and_unknown_actions_are_refused(app):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record("attendance.marked", subject_type="session", subject_id=1)
    with pytest.raises(ValueError, match="free text"):
        audit.record(
            "attendance.mark", subject_type="session", subject_id=1, after={"remark": "x" * 65}
        )
    with pytest.raises(TypeError):
        audit.record("attendance.mark", subject_type="session", subject_id=1, after={"p": object()})
    db.session.rollback()
    assert sa.inspect(db.engine).has_table("audit_event")

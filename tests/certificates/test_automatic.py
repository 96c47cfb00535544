"""Certificates are issued by themselves when what the rule looks at changes after the course."""

import contextlib

import sqlalchemy as sa

from app.attendance.models import AttendanceStatus, Channel
from app.attendance.services import record_mark
from app.certificates import queries, services
from app.certificates.models import CertificateKind, CertificateLanguage, CertificateStatus
from app.extensions import db
from app.surveys import services as surveys
from app.surveys.models import SurveyInvitation
from app.timeutil import utcnow
from tests.certificates.helpers import add_survey, finished_run
from tests.conftest import login


def _statuses(run_id):
    db.session.expire_all()
    return [(c.person_id, c.status) for c in queries.of_run(run_id)]


def _mark_last_session(world, person, status=AttendanceStatus.PRESENT):
    record_mark(
        session=world.sessions[-1],
        person_id=person.id,
        status=status,
        remark=None,
        marked_at=None,
        by=world.trainer,
        channel=Channel.IMPORT,
    )


def test_a_late_mark_that_meets_the_rule_issues_the_certificate_at_commit(app):
    world = finished_run(2, attended=1)  # 50% each; the default rule asks for more
    learner, other = world.people
    _mark_last_session(world, learner)
    assert _statuses(world.run.id) == []  # nothing before the commit
    db.session.commit()
    assert _statuses(world.run.id) == [(learner.id, CertificateStatus.VALID)]


def test_marks_rolled_back_issue_nothing(app):
    world = finished_run(1, attended=1)
    _mark_last_session(world, world.people[0])
    db.session.rollback()
    db.session.commit()
    assert _statuses(world.run.id) == []


def test_an_absence_issues_nothing(app):
    world = finished_run(1, attended=1)
    _mark_last_session(world, world.people[0], AttendanceStatus.ABSENT)
    db.session.commit()
    assert _statuses(world.run.id) == []


def test_marks_while_the_course_runs_do_not_evaluate_the_rule(app):
    world = finished_run(1, attended=0, ended_days_ago=-5)  # ends in five days
    statements = []

    def count(*args):
        statements.append(args[2])

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        _mark_last_session(world, world.people[0])
        before = len(statements)
        db.session.commit()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # The commit looked up the run's end date, and nothing more (besides the audit trail).
    (lookup,) = [s for s in statements[before:] if not s.startswith("INSERT INTO audit_event")]
    assert lookup.startswith("SELECT course_run.")
    assert _statuses(world.run.id) == []


def test_answering_the_survey_issues_the_certificate(app):
    world = finished_run(1)
    (learner,) = world.people
    services.save_rule(
        world.run,
        kind=CertificateKind.COMPLETION,
        min_attendance=80,
        require_post_test=False,
        require_survey=True,
        language=CertificateLanguage.SQ_EN,
        by=None,
    )
    survey = add_survey(world.run, [], [learner])
    db.session.commit()
    assert _statuses(world.run.id) == []  # the survey is still missing
    invitation = db.session.scalar(
        sa.select(SurveyInvitation).where(SurveyInvitation.survey_id == survey.id)
    )
    surveys.respond(
        invitation=invitation,
        today=utcnow().date(),
        overall=5,
        relevance=4,
        trainer=5,
    )
    db.session.commit()
    assert _statuses(world.run.id) == [(learner.id, CertificateStatus.VALID)]


def test_a_gentler_rule_issues_what_became_due(app):
    world = finished_run(1, attended=1)  # 50%
    services.save_rule(
        world.run,
        kind=CertificateKind.ATTENDANCE,
        min_attendance=50,
        require_post_test=False,
        require_survey=False,
        language=CertificateLanguage.EN,
        by=world.manager,
    )
    db.session.commit()
    assert _statuses(world.run.id) == [(world.people[0].id, CertificateStatus.VALID)]


def test_a_trainer_correcting_the_register_after_the_course_issues_it(app, client):
    world = finished_run(1, attended=1)
    (learner,) = world.people
    login(client, world.trainer)
    response = client.post(
        f"/sessions/{world.sessions[-1].id}/roll-call/mark",
        data={
            "person_id": learner.id,
            "status": "present",
            "remark": "",
            "client_id": "late-correction-1",
        },
    )
    assert response.status_code == 302
    assert _statuses(world.run.id) == [(learner.id, CertificateStatus.VALID)]


def test_savepoints_wait_for_the_real_commit(app):
    """A sync batch records each mark in a savepoint; SQLAlchemy reports a released or
    rolled-back savepoint as a commit or rollback, which must neither issue early nor
    forget the marks recorded before it."""
    world = finished_run(3, attended=1)
    first, second, third = world.people
    with db.session.begin_nested():
        _mark_last_session(world, first)
    with db.session.begin_nested():
        _mark_last_session(world, second)
    with contextlib.suppress(RuntimeError), db.session.begin_nested():
        _mark_last_session(world, third)
        raise RuntimeError("this mark fails")
    assert _statuses(world.run.id) == []
    db.session.commit()
    assert sorted(_statuses(world.run.id)) == [
        (first.id, CertificateStatus.VALID),
        (second.id, CertificateStatus.VALID),
    ]

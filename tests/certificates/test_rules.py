"""The rule: defaults, and what each learner still misses."""

from datetime import timedelta

from app.certificates import rules, services
from app.certificates.models import CertificateKind, CertificateLanguage
from app.extensions import db
from app.timeutil import utcnow
from tests.certificates.helpers import add_post_test, add_survey, finished_run


def _by_person(run):
    return {s.person_id: s for s in rules.evaluate(run, utcnow())}


def test_default_rule_uses_programme_threshold_and_run_language(app):
    world = finished_run(1, run_values={"language": "sr_Latn"})
    rule = rules.rule_for(world.run)
    assert rule.min_attendance == world.run.programme.attendance_threshold == 80
    assert rule.require_post_test is False and rule.kind == CertificateKind.ATTENDANCE
    assert rule.language == CertificateLanguage.SR_LATN_EN
    assert rules.saved_rule(world.run.id) is None  # defaults are not written


def test_default_rule_asks_for_the_post_test_when_the_run_has_one(app):
    world = finished_run(1, post_test=True)
    rule = rules.rule_for(world.run)
    assert rule.require_post_test and rule.kind == CertificateKind.COMPLETION


def test_learner_meeting_every_condition_is_due(app):
    world = finished_run(2)
    standings = rules.evaluate(world.run, utcnow())
    assert [s.due for s in standings] == [True, True]
    assert all(s.attendance == 100 and s.missing == [] for s in standings)


def test_attendance_below_the_minimum_is_missing(app):
    world = finished_run(1, sessions=4, attended=3)
    (standing,) = rules.evaluate(world.run, utcnow())
    assert standing.attendance == 75
    assert standing.missing == ["Attendance is 75%; at least 80% of the sessions is needed."]
    services.save_rule(
        world.run,
        kind=CertificateKind.ATTENDANCE,
        min_attendance=75,
        require_post_test=False,
        require_survey=False,
        language=CertificateLanguage.EN,
        by=None,
    )
    assert rules.evaluate(world.run, utcnow())[0].met


def test_nothing_is_due_before_the_course_is_over(app):
    world = finished_run(1, ended_days_ago=0)
    before_the_last_session = world.sessions[-1].starts_at - timedelta(minutes=1)
    (standing,) = rules.evaluate(world.run, before_the_last_session)
    assert not standing.met
    assert standing.missing[0].startswith("The course ends on")


def test_post_test_and_survey_conditions(app):
    world = finished_run(3)
    passer, failer, absent = world.people
    add_post_test(world.run, [passer], [failer])
    add_survey(world.run, [passer, absent], [failer])
    services.save_rule(
        world.run,
        kind=CertificateKind.COMPLETION,
        min_attendance=80,
        require_post_test=True,
        require_survey=True,
        language=CertificateLanguage.SQ_EN,
        by=None,
    )
    db.session.commit()
    standing = _by_person(world.run)
    assert standing[passer.id].met
    assert standing[failer.id].missing == [
        "Pass the post-test.",
        "Fill in the course feedback survey.",
    ]
    assert standing[absent.id].missing == ["Pass the post-test."]


def test_missing_post_test_and_survey_say_so(app):
    world = finished_run(1)
    services.save_rule(
        world.run,
        kind=CertificateKind.COMPLETION,
        min_attendance=80,
        require_post_test=True,
        require_survey=True,
        language=CertificateLanguage.SQ_EN,
        by=None,
    )
    (standing,) = rules.evaluate(world.run, utcnow())
    assert standing.missing == [
        "The post-test is not set up yet.",
        "The course feedback survey has not been sent yet.",
    ]


def test_evaluation_takes_the_same_queries_for_3_or_30_learners(app):
    from tests.query_counter import count_queries

    small, large = finished_run(3), finished_run(30)
    counts = []
    for world in (small, large):
        run = world.run
        db.session.expire_all()
        rule = rules.rule_for(run)
        with count_queries() as counter:
            rules.evaluate(run, utcnow(), rule)
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 8

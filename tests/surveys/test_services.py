"""Survey rules: scheduling windows, invitations, one answer each, anonymity, indicators."""

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.courses.models import CourseRun
from app.enrollment.services import enrol
from app.errors import Conflict, DomainError
from app.extensions import db
from app.surveys import queries, services
from app.surveys.models import Applied, SurveyInvitation, SurveyKind, SurveyResponse
from tests.conftest import create_person, create_programme, create_run

ENDED = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 15, 0)


@pytest.fixture
def run():
    course_run = create_run(starts_on=date(2026, 3, 2), ends_on=ENDED)
    for _n in range(3):
        enrol(run=course_run, person=create_person(), by=None)
    enrol(run=course_run, person=create_person(email=None), by=None)
    db.session.commit()
    return course_run


def reaction(run, send_on=ENDED, closes_on=None):
    survey = services.schedule_survey(
        run=run, kind=SurveyKind.REACTION, send_on=send_on, closes_on=closes_on, by=None
    )
    db.session.commit()
    return survey


def invitations(survey):
    return db.session.scalars(
        sa.select(SurveyInvitation)
        .where(SurveyInvitation.survey_id == survey.id)
        .order_by(SurveyInvitation.id)
    ).all()


def test_follow_up_must_be_sent_three_to_six_months_after_the_end(run):
    for send_on in (ENDED + timedelta(days=30), ENDED + timedelta(days=200)):
        with pytest.raises(DomainError, match="3 to 6 months"):
            services.schedule_survey(
                run=run, kind=SurveyKind.FOLLOW_UP, send_on=send_on, closes_on=None, by=None
            )
    survey = services.schedule_survey(
        run=run,
        kind=SurveyKind.FOLLOW_UP,
        send_on=ENDED + timedelta(days=120),
        closes_on=None,
        by=None,
    )
    assert survey.send_on == date(2026, 7, 8)


def test_one_survey_of_each_kind_per_run(run):
    reaction(run)
    with pytest.raises(Conflict):
        reaction(run)


def test_reaction_survey_dates(run):
    with pytest.raises(DomainError, match="once the course has started"):
        reaction(run, send_on=date(2026, 1, 1))
    with pytest.raises(DomainError, match="close after it is sent"):
        reaction(run, closes_on=ENDED - timedelta(days=1))


def test_sending_invites_enrolled_learners_once(run):
    survey = reaction(run)
    deliveries = services.send_survey(survey, now=NOW)
    db.session.commit()
    assert len(invitations(survey)) == 4
    assert len(deliveries) == 3  # one learner has no e-mail address
    assert all(len(d.token) > 30 for d in deliveries)
    assert all(
        i.token_hash != d.token for i, d in zip(invitations(survey), deliveries, strict=False)
    )
    late = create_person()
    enrol(run=run, person=late, by=None)
    again = services.send_survey(survey, now=NOW + timedelta(days=1))
    assert [d.email for d in again] == [late.email]
    assert survey.sent_at == NOW


def test_a_planned_survey_waits_for_its_day(run):
    survey = services.schedule_survey(
        run=run,
        kind=SurveyKind.FOLLOW_UP,
        send_on=ENDED + timedelta(days=100),
        closes_on=None,
        by=None,
    )
    with pytest.raises(DomainError, match="planned for"):
        services.send_survey(survey, now=NOW)
    assert services.send_due(now=NOW) == []
    ((due, deliveries),) = services.send_due(now=datetime(2026, 6, 18, 8, 0))
    assert due.id == survey.id
    assert len(deliveries) == 3


def test_answers_are_anonymous_unless_signed(run):
    survey = reaction(run)
    services.send_survey(survey, now=NOW)
    first, second = invitations(survey)[:2]
    services.respond(
        invitation=first, today=ENDED, overall=5, relevance=4, trainer=5, comment="Great course"
    )
    services.respond(
        invitation=second,
        today=ENDED,
        overall=2,
        relevance=3,
        trainer=4,
        comment="Too fast",
        signed=True,
    )
    db.session.commit()
    responses = db.session.scalars(sa.select(SurveyResponse).order_by(SurveyResponse.comment)).all()
    assert [(r.comment, r.person_id) for r in responses] == [
        ("Great course", None),
        ("Too fast", second.person_id),
    ]
    assert first.responded and second.responded
    # Nothing in either table pairs an anonymous response with an invitation.
    invitation_columns = set(SurveyInvitation.__table__.columns.keys())
    assert not {"responded_at", "response_id", "answered_at"} & invitation_columns
    assert isinstance(responses[0].submitted_on, date) and not isinstance(
        responses[0].submitted_on, datetime
    )


def test_one_answer_per_invitation(run):
    survey = reaction(run)
    services.send_survey(survey, now=NOW)
    invitation = invitations(survey)[0]
    services.respond(invitation=invitation, today=ENDED, overall=4, relevance=4, trainer=4)
    stale = db.session.get(SurveyInvitation, invitation.id)
    stale.responded = False  # a replay from an old page still believes it may answer
    with pytest.raises(Conflict, match="already answered"):
        services.respond(invitation=stale, today=ENDED, overall=1, relevance=1, trainer=1)
    assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 1


def test_ratings_are_checked_and_closed_surveys_refuse(run):
    survey = reaction(run, closes_on=ENDED + timedelta(days=7))
    services.send_survey(survey, now=NOW)
    invitation = invitations(survey)[0]
    with pytest.raises(DomainError, match="1 to 5"):
        services.respond(invitation=invitation, today=ENDED, overall=6, relevance=4, trainer=4)
    with pytest.raises(DomainError, match="closed"):
        services.respond(
            invitation=invitation,
            today=ENDED + timedelta(days=8),
            overall=4,
            relevance=4,
            trainer=4,
        )


def test_follow_up_answers_and_indicators(run):
    survey = services.schedule_survey(
        run=run,
        kind=SurveyKind.FOLLOW_UP,
        send_on=ENDED + timedelta(days=100),
        closes_on=None,
        by=None,
    )
    services.send_survey(survey, now=datetime(2026, 6, 18, 9, 0))
    answers = [Applied.YES, Applied.PARTLY, Applied.NO]
    for invitation, applied in zip(invitations(survey), answers, strict=False):
        services.respond(
            invitation=invitation, today=date(2026, 6, 20), applied=applied, how_applied="Used BCC"
        )
    with pytest.raises(DomainError, match="whether you used"):
        services.respond(
            invitation=invitations(survey)[3], today=date(2026, 6, 20), applied="maybe"
        )
    result = queries.application([run.id])
    assert (result.responses, result.applied, result.partly) == (3, 1, 1)
    assert result.share == pytest.approx(2 / 3)
    assert queries.applied_counts(survey.id) == {"yes": 1, "partly": 1, "no": 1}


def test_satisfaction_is_the_share_rating_four_or_five():
    programme = create_programme()
    runs = [create_run(programme, starts_on=date(2026, 3, 2), ends_on=ENDED) for _ in range(2)]
    ratings = [[5, 4, 2], [3, 4]]
    for run, overall in zip(runs, ratings, strict=True):
        for _ in overall:
            enrol(run=run, person=create_person(), by=None)
        survey = reaction(run)
        services.send_survey(survey, now=NOW)
        for invitation, value in zip(invitations(survey), overall, strict=True):
            services.respond(
                invitation=invitation, today=ENDED, overall=value, relevance=3, trainer=3
            )
    result = queries.satisfaction(
        sa.select(CourseRun.id).where(CourseRun.programme_id == programme.id)
    )
    assert (result.responses, result.satisfied) == (5, 3)
    assert result.share == pytest.approx(0.6)
    assert result.mean == 3.6
    first = queries.rating_summaries(
        db.session.scalars(
            sa.select(SurveyInvitation.survey_id).order_by(SurveyInvitation.id)
        ).first()
    )
    assert first[0].distribution == [(5, 1), (4, 1), (3, 0), (2, 1), (1, 0)]
    assert first[0].share_satisfied == pytest.approx(2 / 3)


def test_comments_come_in_alphabetical_order_with_names_only_when_signed(run):
    survey = reaction(run)
    services.send_survey(survey, now=NOW)
    texts = ["zebra", "apple", "mango"]
    for invitation, text in zip(invitations(survey), texts, strict=False):
        services.respond(
            invitation=invitation,
            today=ENDED,
            overall=4,
            relevance=4,
            trainer=4,
            comment=text,
            signed=text == "mango",
        )
    comments = queries.comments(survey.id)
    assert [c.text for c in comments] == ["apple", "mango", "zebra"]
    assert [c.signed_by is not None for c in comments] == [False, True, False]


def test_send_due_command_mails_links(runner, run, outbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "SERVER_NAME", None)  # production: links from --base-url
    survey = reaction(run, send_on=date.today())
    result = runner.invoke(
        args=["surveys", "send-due", "--base-url", "https://akademia.example.org"]
    )
    assert result.exit_code == 0, result.output
    assert "3 e-mailed" in result.output
    assert len(outbox) == 3
    link = re.search(r"https://akademia\.example\.org/surveys/answer/\S+", outbox[0].get_content())
    assert link
    db.session.refresh(survey)
    assert survey.sent_at is not None
    again = runner.invoke(
        args=["surveys", "send-due", "--base-url", "https://akademia.example.org"]
    )
    assert "0 survey(s) sent" in again.output

"""Objects behind every URL argument of a POST route, on top of the access matrix's world.

The access test's world has a programme, run, session, activity, certificate …; the fuzzer
also needs the objects only some forms touch (a quiz attempt of the signed-in learner, a
survey link, observatory items, an indicator), so that its requests reach the form code
instead of stopping at a 404.
"""

from datetime import date

from app.auth.roles import Role
from app.enrollment.services import enrol
from app.extensions import db
from app.observatory.recommendation_services import RecommendationFields, save_recommendation
from app.people.models import Institution, InstitutionType
from app.programmes.models import Programme, ReportingPeriod
from app.quizzes import services as quiz_services
from app.reports.models import IndicatorLevel, IndicatorUnit
from app.reports.services import save_indicator
from app.surveys.models import Survey, SurveyInvitation, SurveyKind
from app.timeutil import utcnow
from tests.observatory.helpers import create_measure, create_milestone, create_strategy
from tests.quizzes.factories import make_bank, make_quiz

SURVEY_TOKEN = "fuzz-survey-token"


def extend_world(users: dict, values: dict) -> dict[str, dict]:
    """Add the remaining objects; returns URL values per endpoint where they differ by route."""
    learner = users[Role.LEARNER]
    programme = db.session.get(Programme, values["programme_id"])
    from app.courses.models import CourseRun

    run = db.session.get(CourseRun, values["run_id"])
    own_enrollment = enrol(run=run, person=learner.person, by=None)
    bank = make_bank(run.course)
    quiz = make_quiz(run, bank)
    attempt = quiz_services.start_attempt(quiz=quiz, person=learner.person, now=utcnow())
    survey = Survey(run=run, kind=SurveyKind.REACTION, send_on=date.today(), closes_on=None)
    db.session.add(survey)
    db.session.add(
        SurveyInvitation(
            survey=survey,
            person=learner.person,
            token_hash=SurveyInvitation.hash_token(SURVEY_TOKEN),
        )
    )
    institution = Institution(name="Komuna e Prishtinës", type=InstitutionType.MUNICIPALITY)
    db.session.add(institution)
    period = ReportingPeriod(
        programme=programme,
        name="2026 Q4",
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 12, 31),
    )
    db.session.add(period)
    indicator = save_indicator(
        programme=programme,
        code="1.1",
        title="Officials trained",
        level=IndicatorLevel.OUTPUT,
        unit=IndicatorUnit.COUNT,
        measure="manual",
        baseline_value=0,
        baseline_year=2025,
        target=100,
        means_of_verification="Registers",
    )
    strategy = create_strategy()
    measure = create_measure(strategy)
    milestone = create_milestone(measure)
    recommendation = save_recommendation(
        None,
        values=RecommendationFields(year=2025, text_en="Train officials", addressed_to="MIA"),
        today=date(2026, 6, 1),
    )
    db.session.commit()
    values.update(
        attempt_id=attempt.id,
        quiz_id=quiz.id,
        survey_id=survey.id,
        institution_id=institution.id,
        period_id=period.id,
        indicator_id=indicator.id,
        strategy_id=strategy.id,
        measure_id=measure.id,
        milestone_id=milestone.id,
        recommendation_id=recommendation.id,
    )
    from app.attendance.models import CourseSession
    from app.attendance.services import qr_token

    session = db.session.get(CourseSession, values["session_id"])
    return {
        "surveys.answer": {"token": SURVEY_TOKEN},
        "enrollment.withdraw": {"enrollment_id": own_enrollment.id},
        "attendance.check_in": {"token": qr_token(session, utcnow())},
    }

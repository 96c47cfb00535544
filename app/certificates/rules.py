"""What earns a certificate in a run, and where each learner stands against it.

Conditions, all required: the run is over (its last day has come and no session is still to
be held); the learner attended at least `min_attendance`% of the sessions held since they
enrolled (app.attendance.queries.attendance_rates); if required, they passed a post-test of
the run (any graded attempt at or above its pass mark); if required, they answered the run's
reaction survey. `evaluate` answers for a whole run in a fixed number of queries.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _

from app.attendance.models import CourseSession, SessionStatus
from app.attendance.queries import attendance_rates
from app.courses.models import CourseRun
from app.extensions import db
from app.quizzes.models import FINAL_STATES, Attempt, Quiz, QuizKind
from app.surveys.models import Survey, SurveyInvitation, SurveyKind

from .models import (
    Certificate,
    CertificateKind,
    CertificateLanguage,
    CertificateRule,
    CertificateStatus,
)

# The run's language of delivery → the certificate's default layout (bilingual with English,
# which donors read).
DEFAULT_LANGUAGE = {
    "sq": CertificateLanguage.SQ_EN,
    "sr_Latn": CertificateLanguage.SR_LATN_EN,
    "en": CertificateLanguage.EN,
}


def local_today(now: datetime) -> date:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Belgrade"))
    return now.replace(tzinfo=UTC).astimezone(zone).date()


def saved_rule(run_id: int) -> CertificateRule | None:
    return db.session.scalar(sa.select(CertificateRule).where(CertificateRule.run_id == run_id))


def default_rule(run: CourseRun) -> CertificateRule:
    """The rule of a run nobody configured: the programme's attendance threshold, the post-test
    if the run has one, no survey; not added to the session."""
    with_test = has_post_test(run.id)
    return CertificateRule(
        run_id=run.id,
        kind=CertificateKind.COMPLETION if with_test else CertificateKind.ATTENDANCE,
        min_attendance=run.programme.attendance_threshold,
        require_post_test=with_test,
        require_survey=False,
        language=DEFAULT_LANGUAGE.get(run.language, CertificateLanguage.SQ_EN),
    )


def rule_for(run: CourseRun) -> CertificateRule:
    return saved_rule(run.id) or default_rule(run)


# --- Queries against the attendance, quizzes and surveys areas ------------------------------


def has_post_test(run_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(Quiz.id)).where(
                Quiz.run_id == run_id, Quiz.kind == QuizKind.POST_TEST
            )
        )
    )


def post_test_passers(run_id: int) -> set[int]:
    """People with a graded post-test attempt of the run that reached the pass mark."""
    return set(
        db.session.scalars(
            sa.select(Attempt.person_id)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .where(
                Quiz.run_id == run_id,
                Quiz.kind == QuizKind.POST_TEST,
                Attempt.state.in_(FINAL_STATES),
                Attempt.passed.is_(True),
            )
            .distinct()
        )
    )


def reaction_survey(run_id: int) -> Survey | None:
    return db.session.scalar(
        sa.select(Survey).where(Survey.run_id == run_id, Survey.kind == SurveyKind.REACTION)
    )


def survey_responders(survey_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(SurveyInvitation.person_id).where(
                SurveyInvitation.survey_id == survey_id, SurveyInvitation.responded.is_(True)
            )
        )
    )


def sessions_to_come(run_id: int, now: datetime) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(CourseSession.id)).where(
            CourseSession.run_id == run_id,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.ends_at > now,
        )
    )


def current_certificates(run_id: int) -> dict[int, Certificate]:
    """Per person, the run's certificate that is not superseded (at most one, by the index)."""
    rows = db.session.scalars(
        sa.select(Certificate).where(
            Certificate.run_id == run_id, Certificate.status != CertificateStatus.SUPERSEDED
        )
    )
    return {c.person_id: c for c in rows}


# --- Evaluation -----------------------------------------------------------------------------


@dataclass
class Standing:
    """One enrolled learner against the run's rule."""

    person_id: int
    name: str
    attendance: int | None  # percent of sessions held, None before the first one
    post_test_passed: bool | None  # None when the rule does not ask for it
    survey_done: bool | None
    missing: list[str] = field(default_factory=list)
    certificate: Certificate | None = None

    @property
    def met(self) -> bool:
        return not self.missing

    @property
    def due(self) -> bool:
        """Meets the rule and has no certificate yet."""
        return self.met and self.certificate is None


def run_over_message(run: CourseRun, now: datetime) -> str | None:
    if local_today(now) < run.ends_on or sessions_to_come(run.id, now):
        return _(
            "The course ends on %(day)s; certificates are issued once it is over.",
            day=format_date(run.ends_on),
        )
    return None


def evaluate(run: CourseRun, now: datetime, rule: CertificateRule | None = None) -> list[Standing]:
    """Where every enrolled learner stands, in at most eight queries whatever the run's size."""
    rule = rule or rule_for(run)
    not_over = run_over_message(run, now)
    passers = post_test_passers(run.id) if rule.require_post_test else set()
    test_exists = has_post_test(run.id) if rule.require_post_test else True
    survey = reaction_survey(run.id) if rule.require_survey else None
    responders = survey_responders(survey.id) if survey else set()
    certificates = current_certificates(run.id)
    standings = []
    for rate in attendance_rates(run, now):
        missing = [not_over] if not_over else []
        if rate.rate is None:
            missing.append(_("No session has been held yet."))
        elif rate.rate * 100 < rule.min_attendance:
            missing.append(
                _(
                    "Attendance is %(rate)s%%; at least %(min)s%% of the sessions is needed.",
                    rate=rate.percent,
                    min=rule.min_attendance,
                )
            )
        passed = None
        if rule.require_post_test:
            passed = rate.person_id in passers
            if not test_exists:
                missing.append(_("The post-test is not set up yet."))
            elif not passed:
                missing.append(_("Pass the post-test."))
        answered = None
        if rule.require_survey:
            answered = rate.person_id in responders
            if survey is None:
                missing.append(_("The course feedback survey has not been sent yet."))
            elif not answered:
                missing.append(_("Fill in the course feedback survey."))
        standings.append(
            Standing(
                person_id=rate.person_id,
                name=rate.name,
                attendance=rate.percent,
                post_test_passed=passed,
                survey_done=answered,
                missing=missing,
                certificate=certificates.get(rate.person_id),
            )
        )
    return standings


def standing_of(run: CourseRun, person_id: int, now: datetime) -> Standing | None:
    return next((s for s in evaluate(run, now) if s.person_id == person_id), None)

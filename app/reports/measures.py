"""The built-in measures an indicator can be linked to, each defined by one base query.

A measure's base query returns one row per thing it counts: `subject_id` (a person, a
session, a municipality or an institution) and, for sums, means and shares, a `value`.
app/reports/aggregate.py turns it into a total or a breakdown with one GROUP BY query, so
every number in a report comes from SQL, never from a loop over people.
"""

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.activities.models import Activity, ActivityParticipant, ActivityType
from app.attendance.models import ATTENDED, Attendance, CourseSession, SessionStatus
from app.attendance.queries import enrolment_attendance
from app.certificates.models import Certificate, CertificateStatus
from app.courses.models import CourseRun
from app.extensions import db
from app.people.models import Person, TargetGroup
from app.places.models import Municipality
from app.quizzes.queries import gain_pairs
from app.surveys.models import Applied, Survey, SurveyInvitation, SurveyKind, SurveyResponse

from .materialise import shared
from .models import IndicatorUnit
from .scope import Scope

PERSON_DIMENSIONS = (
    "sex",
    "age_band",
    "municipality",
    "region",
    "institution_type",
    "target_group",
)
PLACE_DIMENSIONS = ("municipality", "region")


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    unit: IndicatorUnit
    subject: str  # person, session, municipality or institution
    aggregate: str  # distinct (subjects), rows, sum, mean or share (100 × mean of 0/1)
    base: Callable[[Scope], sa.Select]
    dimensions: tuple[str, ...]
    level: str = "output"  # the level a standard logframe gives it


def _hours(starts_at, ends_at) -> sa.ColumnElement:
    if db.engine.dialect.name == "sqlite":
        # Whole seconds: julianday's fractional days leave float noise in summed hours.
        seconds = sa.func.strftime("%s", ends_at) - sa.func.strftime("%s", starts_at)
        return sa.cast(seconds, sa.Integer) / 3600.0
    return sa.extract("epoch", ends_at - starts_at) / 3600.0


def participations(scope: Scope) -> sa.FromClause:
    """Per enrolment in a run that ends in the period: sessions held since the learner
    enrolled (`counted`) and how many they attended. Sessions before the enrolment do not
    count, so someone enrolled late is not absent for them."""
    return shared(scope, "participations", lambda: _participation_rows(scope))


def _participation_rows(scope: Scope) -> sa.Select:
    return enrolment_attendance(scope.runs(), scope.now)


def trained(scope: Scope) -> sa.Select:
    """Everyone who attended at least the programme's threshold of a course's sessions."""
    p = participations(scope)
    return sa.select(p.c.person_id.label("subject_id")).where(
        p.c.counted > 0, p.c.attended * 100 >= scope.threshold * p.c.counted
    )


def _participations(scope: Scope) -> sa.Select:
    p = participations(scope)
    return sa.select(p.c.person_id.label("subject_id")).where(p.c.attended > 0)


def _held_sessions(scope: Scope) -> sa.Select:
    programme_runs = sa.select(CourseRun.id).where(CourseRun.programme_id == scope.programme_id)
    return sa.select(
        CourseSession.id.label("subject_id"),
        _hours(CourseSession.starts_at, CourseSession.ends_at).label("value"),
    ).where(
        CourseSession.run_id.in_(programme_runs),
        CourseSession.status == SessionStatus.SCHEDULED,
        CourseSession.starts_at >= scope.start,
        CourseSession.starts_at < scope.end,
    )


def _person_hours(scope: Scope) -> sa.Select:
    # Summed per person here: one row per person instead of one per attendance keeps every
    # breakdown's join small, and the sums are the same.
    sessions = _held_sessions(scope).subquery()
    return (
        sa.select(
            Attendance.person_id.label("subject_id"), sa.func.sum(sessions.c.value).label("value")
        )
        .join(sessions, sessions.c.subject_id == Attendance.session_id)
        .where(Attendance.status.in_(ATTENDED))
        .group_by(Attendance.person_id)
    )


def _trained_people(scope: Scope) -> sa.Subquery:
    return trained(scope).subquery()


def _municipalities_reached(scope: Scope) -> sa.Select:
    people = _trained_people(scope)
    return (
        sa.select(Person.municipality_id.label("subject_id"))
        .join(people, people.c.subject_id == Person.id)
        .where(Person.municipality_id.is_not(None))
    )


def _municipal_coverage(scope: Scope) -> sa.Select:
    people = _trained_people(scope)
    with_official = (
        sa.select(Person.municipality_id)
        .join(people, people.c.subject_id == Person.id)
        .where(Person.target_group == TargetGroup.MUNICIPAL_OFFICIAL)
    )
    reached = sa.case((Municipality.id.in_(with_official), 1), else_=0)
    return sa.select(Municipality.id.label("subject_id"), reached.label("value"))


def _activity_attendees(scope: Scope, kind: ActivityType | None = None) -> sa.Select:
    query = (
        sa.select(ActivityParticipant.person_id.label("subject_id"))
        .join(Activity, Activity.id == ActivityParticipant.activity_id)
        .where(
            Activity.programme_id == scope.programme_id,
            Activity.cancelled.is_(False),
            ActivityParticipant.attended.is_(True),
            Activity.starts_at >= scope.start,
            Activity.starts_at < scope.end,
        )
    )
    return query if kind is None else query.where(Activity.type == kind)


def _organisations(scope: Scope) -> sa.Select:
    reached = sa.union(trained(scope), _activity_attendees(scope)).subquery()
    return (
        sa.select(Person.institution_id.label("subject_id"))
        .join(reached, reached.c.subject_id == Person.id)
        .where(Person.institution_id.is_not(None))
    )


def _certificates(scope: Scope) -> sa.Select:
    programme_runs = sa.select(CourseRun.id).where(CourseRun.programme_id == scope.programme_id)
    return sa.select(Certificate.person_id.label("subject_id")).where(
        Certificate.run_id.in_(programme_runs),
        # An erased certificate was issued all the same: its holder's data went, not the fact.
        Certificate.status.in_((CertificateStatus.VALID, CertificateStatus.ERASED)),
        Certificate.issued_at >= scope.start,
        Certificate.issued_at < scope.end,
    )


def _gain(column: str) -> Callable[[Scope], sa.Select]:
    def base(scope: Scope) -> sa.Select:
        pairs = shared(scope, "gain_pairs", lambda: gain_pairs(scope.runs()))
        return sa.select(pairs.c.person_id.label("subject_id"), pairs.c[column].label("value"))

    return base


def _satisfaction(scope: Scope) -> sa.Select:
    return (
        sa.select(
            SurveyResponse.person_id.label("subject_id"),
            sa.case((SurveyResponse.overall >= 4, 1), else_=0).label("value"),
        )
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(
            Survey.kind == SurveyKind.REACTION,
            Survey.run_id.in_(scope.runs()),
            SurveyResponse.overall.is_not(None),
        )
    )


def _application(scope: Scope) -> sa.Select:
    """Follow-up answers given in the period (they come months after the course)."""
    programme_runs = sa.select(CourseRun.id).where(CourseRun.programme_id == scope.programme_id)
    used = SurveyResponse.applied.in_((Applied.YES, Applied.PARTLY))
    return (
        sa.select(
            SurveyResponse.person_id.label("subject_id"),
            sa.case((used, 1), else_=0).label("value"),
        )
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(
            Survey.kind == SurveyKind.FOLLOW_UP,
            Survey.run_id.in_(programme_runs),
            SurveyResponse.applied.is_not(None),
            SurveyResponse.submitted_on >= scope.starts_on,
            SurveyResponse.submitted_on <= scope.ends_on,
        )
    )


def _response_rate(scope: Scope) -> sa.Select:
    return (
        sa.select(
            SurveyInvitation.person_id.label("subject_id"),
            sa.case((SurveyInvitation.responded.is_(True), 1), else_=0).label("value"),
        )
        .join(Survey, Survey.id == SurveyInvitation.survey_id)
        .where(Survey.run_id.in_(scope.runs()), Survey.sent_at.is_not(None))
    )


COUNT, PERCENT = IndicatorUnit.COUNT, IndicatorUnit.PERCENT
_ALL = PERSON_DIMENSIONS
_ORGS = ("institution_type", "municipality", "region")

MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("people_trained", _l("People trained (counted once)"), COUNT, "person", "distinct", trained, _ALL),
        Measure("participations", _l("Participations in courses"), COUNT, "person", "rows", _participations, _ALL),
        Measure("sessions_held", _l("Training sessions held"), COUNT, "session", "rows", _held_sessions, PLACE_DIMENSIONS),
        Measure("training_hours", _l("Training hours delivered"), COUNT, "session", "sum", _held_sessions, PLACE_DIMENSIONS),
        Measure("person_hours", _l("Person-hours of training"), COUNT, "person", "sum", _person_hours, _ALL),
        Measure("municipalities_reached", _l("Municipalities reached"), COUNT, "municipality", "distinct", _municipalities_reached, ("region",)),
        Measure("municipal_coverage", _l("Share of municipalities with a trained official"), PERCENT, "municipality", "share", _municipal_coverage, ("region",), "outcome"),
        Measure("activity_participants", _l("Participants in activities"), COUNT, "person", "distinct", _activity_attendees, _ALL),
        Measure("talkdigital_participants", _l("TalkDigital participants"), COUNT, "person", "distinct", lambda s: _activity_attendees(s, ActivityType.TALKDIGITAL), _ALL),
        Measure("organisations_reached", _l("Organisations reached"), COUNT, "institution", "distinct", _organisations, _ORGS),
        Measure("certificates_issued", _l("Certificates issued"), COUNT, "person", "rows", _certificates, _ALL),
        Measure("knowledge_pass_share", _l("Share reaching the pass mark on the post-test"), PERCENT, "person", "share", _gain("passed"), _ALL, "outcome"),
        Measure("knowledge_mean_pre", _l("Mean pre-test score"), PERCENT, "person", "mean", _gain("pre"), _ALL, "outcome"),
        Measure("knowledge_mean_post", _l("Mean post-test score"), PERCENT, "person", "mean", _gain("post"), _ALL, "outcome"),
        Measure("knowledge_mean_gain", _l("Mean knowledge gain (points)"), PERCENT, "person", "mean", _gain("gain"), _ALL, "outcome"),
        Measure("satisfaction_share", _l("Share satisfied (rating 4 or 5)"), PERCENT, "person", "share", _satisfaction, _ALL, "outcome"),
        Measure("application_rate", _l("Share applying what they learned"), PERCENT, "person", "share", _application, _ALL, "impact"),
        Measure("survey_response_rate", _l("Survey response rate"), PERCENT, "person", "share", _response_rate, _ALL),
    )
}  # fmt: skip

"""Survey rules: scheduling, inviting and answering. Functions flush, never commit; e-mails
go out after the caller's commit (see notifications.py)."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _

from app import progress
from app.auth.models import User
from app.courses.models import CourseRun
from app.enrollment.models import Enrollment, EnrollmentStatus
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Person

from .models import Applied, Survey, SurveyInvitation, SurveyKind, SurveyResponse

# Kirkpatrick level 3: ask once people had time to use what they learned.
FOLLOW_UP_EARLIEST = timedelta(days=90)
FOLLOW_UP_LATEST = timedelta(days=184)


@dataclass
class Delivery:
    """An invitation to e-mail after the commit; the raw token exists only here."""

    invitation: SurveyInvitation
    email: str
    token: str


def follow_up_window(run: CourseRun) -> tuple[date, date]:
    return run.ends_on + FOLLOW_UP_EARLIEST, run.ends_on + FOLLOW_UP_LATEST


def schedule_survey(
    *,
    run: CourseRun,
    kind: SurveyKind,
    send_on: date,
    closes_on: date | None,
    by: User | None,
) -> Survey:
    """Plan a run's reaction or follow-up survey; one of each per run."""
    existing = db.session.scalar(
        sa.select(Survey).where(Survey.run_id == run.id, Survey.kind == kind)
    )
    if existing is not None:
        raise Conflict(_("This course run already has this survey."), field="kind")
    if kind == SurveyKind.FOLLOW_UP:
        earliest, latest = follow_up_window(run)
        if not earliest <= send_on <= latest:
            raise DomainError(
                _(
                    "Send the follow-up 3 to 6 months after the course ended: between %(start)s and %(end)s.",
                    start=format_date(earliest),
                    end=format_date(latest),
                ),
                field="send_on",
            )
    elif send_on < run.starts_on:
        raise DomainError(
            _("Send the course feedback survey once the course has started."), field="send_on"
        )
    if closes_on is not None and closes_on < send_on:
        raise DomainError(_("The survey must close after it is sent."), field="closes_on")
    survey = Survey(
        run=run,
        kind=kind,
        send_on=send_on,
        closes_on=closes_on,
        created_by_id=by.id if by else None,
    )
    db.session.add(survey)
    db.session.flush()
    return survey


def send_survey(survey: Survey, *, now: datetime) -> list[Delivery]:
    """Invite everyone enrolled who has no invitation yet; returns the e-mails to send."""
    if survey.send_on > now.date():
        raise DomainError(
            _("This survey is planned for %(day)s.", day=format_date(survey.send_on)),
            field="send_on",
        )
    invited = sa.select(SurveyInvitation.person_id).where(SurveyInvitation.survey_id == survey.id)
    people = db.session.scalars(
        sa.select(Person)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(
            Enrollment.run_id == survey.run_id,
            Enrollment.status == EnrollmentStatus.ENROLLED,
            Person.id.not_in(invited),
        )
        .order_by(Person.id)
    ).all()
    deliveries = []
    for person in people:
        token = secrets.token_urlsafe(32)
        invitation = SurveyInvitation(
            survey=survey,
            person=person,
            token_hash=SurveyInvitation.hash_token(token),
            emailed=bool(person.email),
        )
        db.session.add(invitation)
        if person.email:
            deliveries.append(Delivery(invitation, person.email, token))
    survey.sent_at = survey.sent_at or now
    db.session.flush()
    return deliveries


def due_surveys(today: date) -> list[Survey]:
    return list(
        db.session.scalars(
            sa.select(Survey)
            .where(Survey.sent_at.is_(None), Survey.send_on <= today)
            .order_by(Survey.send_on, Survey.id)
        )
    )


def send_due(*, now: datetime) -> list[tuple[Survey, list[Delivery]]]:
    """Send every survey whose day has come (`flask surveys send-due`, run daily)."""
    return [(survey, send_survey(survey, now=now)) for survey in due_surveys(now.date())]


def invitation_by_token(token: str) -> SurveyInvitation | None:
    return db.session.scalar(
        sa.select(SurveyInvitation).where(
            SurveyInvitation.token_hash == SurveyInvitation.hash_token(token)
        )
    )


def invitation_for(survey: Survey, person_id: int | None) -> SurveyInvitation | None:
    if person_id is None:
        return None
    return db.session.scalar(
        sa.select(SurveyInvitation).where(
            SurveyInvitation.survey_id == survey.id, SurveyInvitation.person_id == person_id
        )
    )


def _rating(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise DomainError(_("Choose a rating from 1 to 5."), field=name)
    return value


def respond(
    *,
    invitation: SurveyInvitation,
    today: date,
    signed: bool = False,
    overall: int | None = None,
    relevance: int | None = None,
    trainer: int | None = None,
    applied: Applied | None = None,
    how_applied: str | None = None,
    comment: str | None = None,
) -> SurveyResponse:
    """Record an answer once per invitation; anonymous unless the learner signs it."""
    survey = invitation.survey
    if not survey.is_open(today):
        raise DomainError(_("This survey is closed."))
    response = SurveyResponse(
        survey=survey,
        submitted_on=today,
        comment=(comment or "").strip()[:4000] or None,
        person_id=invitation.person_id if signed else None,
    )
    if survey.kind == SurveyKind.REACTION:
        response.overall = _rating(overall, "overall")
        response.relevance = _rating(relevance, "relevance")
        response.trainer = _rating(trainer, "trainer")
    else:
        if applied not in tuple(Applied):
            raise DomainError(_("Tell us whether you used what you learned."), field="applied")
        response.applied = Applied(applied)
        response.how_applied = (how_applied or "").strip()[:4000] or None
    # Only one request can flip the flag, so a replayed form cannot answer twice.
    result = db.session.execute(
        sa.update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.responded.is_(False))
        .values(responded=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("You have already answered this survey. Thank you!"))
    db.session.add(response)
    db.session.flush()
    progress.changed(survey.run_id)
    return response

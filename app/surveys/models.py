"""Reaction surveys (end of a course) and follow-up surveys (3–6 months later).

Anonymity is in the schema: a response carries no person unless the learner chose to sign
it, and only its date (no time). The invitation records *that* someone answered, not when
or which response, so nobody with access to the pages (or the tables) can pair an anonymous
comment with its author.
"""

import enum
import hashlib
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.courses.models import CourseRun
from app.extensions import db, str_enum
from app.people.models import Person
from app.timeutil import utcnow


class SurveyKind(enum.StrEnum):
    REACTION = "reaction"
    FOLLOW_UP = "follow_up"


SURVEY_KIND_LABELS = {
    SurveyKind.REACTION: _l("Course feedback (end of the course)"),
    SurveyKind.FOLLOW_UP: _l("Follow-up (3–6 months later)"),
}


class Applied(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


APPLIED_LABELS = {
    Applied.YES: _l("Yes, regularly"),
    Applied.PARTLY: _l("Partly or occasionally"),
    Applied.NO: _l("Not yet"),
}


class Survey(db.Model):
    __table_args__ = (sa.UniqueConstraint("run_id", "kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_run.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[SurveyKind] = so.mapped_column(str_enum(SurveyKind, 20))
    send_on: so.Mapped[date] = so.mapped_column(index=True)
    closes_on: so.Mapped[date | None] = so.mapped_column()
    sent_at: so.Mapped[datetime | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    run: so.Mapped[CourseRun] = so.relationship()

    @property
    def kind_label(self) -> str:
        return str(SURVEY_KIND_LABELS[self.kind])

    def is_open(self, today: date) -> bool:
        return (
            self.sent_at is not None
            and self.send_on <= today
            and (self.closes_on is None or today <= self.closes_on)
        )


class SurveyInvitation(db.Model):
    """Who was asked and whether they answered; the link in the e-mail carries the token."""

    __table_args__ = (sa.UniqueConstraint("survey_id", "person_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    survey_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    emailed: so.Mapped[bool] = so.mapped_column(default=False)
    # Deliberately no time of answering: it would pair the invitation with the response.
    responded: so.Mapped[bool] = so.mapped_column(default=False)

    survey: so.Mapped[Survey] = so.relationship()
    person: so.Mapped[Person] = so.relationship()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class SurveyResponse(db.Model):
    __table_args__ = (
        sa.CheckConstraint("overall BETWEEN 1 AND 5", name="overall_range"),
        sa.CheckConstraint("relevance BETWEEN 1 AND 5", name="relevance_range"),
        sa.CheckConstraint("trainer BETWEEN 1 AND 5", name="trainer_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    survey_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    submitted_on: so.Mapped[date] = so.mapped_column()
    overall: so.Mapped[int | None] = so.mapped_column()
    relevance: so.Mapped[int | None] = so.mapped_column()
    trainer: so.Mapped[int | None] = so.mapped_column()
    applied: so.Mapped[Applied | None] = so.mapped_column(str_enum(Applied, 10))
    how_applied: so.Mapped[str | None] = so.mapped_column(sa.Text)
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # Set only when the learner chose to sign their comments.
    person_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id"))

    survey: so.Mapped[Survey] = so.relationship()
    person: so.Mapped[Person | None] = so.relationship()

"""Question banks, quizzes and attempts.

A bank belongs to a course (its questions come from curriculum files or from a GIFT import);
a quiz belongs to a course run and draws from one bank; an attempt is one learner's sitting,
with one slot per drawn question that keeps its order, its answer and its score.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.courses.models import Course, CourseRun
from app.extensions import db, str_enum
from app.people.models import Person
from app.timeutil import utcnow

from .types import get_type, pick


class BankSource(enum.StrEnum):
    CURRICULUM = "curriculum"  # owned by curriculum/<course>/questions/<slug>.yml
    GIFT = "gift"  # imported by a manager; lives only in the database


class QuestionBank(db.Model):
    __table_args__ = (sa.UniqueConstraint("course_id", "slug"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    slug: so.Mapped[str] = so.mapped_column(sa.String(80))
    title_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    title_sq: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    title_sr: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    source: so.Mapped[BankSource] = so.mapped_column(str_enum(BankSource, 20))
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    course: so.Mapped[Course] = so.relationship()
    questions: so.Mapped[list["Question"]] = so.relationship(
        back_populates="bank", order_by="Question.position"
    )

    def title(self, lang: str) -> str:
        return pick({"en": self.title_en, "sq": self.title_sq, "sr": self.title_sr}, lang)


class Question(db.Model):
    """One question; `data` holds what its type needs (see app/quizzes/types.py)."""

    __table_args__ = (sa.UniqueConstraint("bank_id", "key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    bank_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question_bank.id", ondelete="CASCADE"), index=True
    )
    key: so.Mapped[str] = so.mapped_column(sa.String(120))
    position: so.Mapped[int] = so.mapped_column(default=0)
    # Text, not an enum: a new question type needs no migration (see types.TYPES).
    qtype: so.Mapped[str] = so.mapped_column(sa.String(30))
    competence: so.Mapped[str] = so.mapped_column(sa.String(5), index=True)
    level: so.Mapped[int] = so.mapped_column()
    points: so.Mapped[float] = so.mapped_column(sa.Float, default=1.0)
    title: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    category: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    text_format: so.Mapped[str] = so.mapped_column(sa.String(10), default="markdown")
    text_en: so.Mapped[str | None] = so.mapped_column(sa.Text)
    text_sq: so.Mapped[str | None] = so.mapped_column(sa.Text)
    text_sr: so.Mapped[str | None] = so.mapped_column(sa.Text)
    feedback_en: so.Mapped[str | None] = so.mapped_column(sa.Text)
    feedback_sq: so.Mapped[str | None] = so.mapped_column(sa.Text)
    feedback_sr: so.Mapped[str | None] = so.mapped_column(sa.Text)
    data: so.Mapped[dict] = so.mapped_column(sa.JSON)
    # Removed from its file or bank: kept for the attempts that used it, never drawn again.
    active: so.Mapped[bool] = so.mapped_column(default=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    bank: so.Mapped[QuestionBank] = so.relationship(back_populates="questions")

    @property
    def kind(self):
        return get_type(self.qtype)

    @property
    def texts(self) -> dict[str, str]:
        return {
            k: v for k, v in (("en", self.text_en), ("sq", self.text_sq), ("sr", self.text_sr)) if v
        }

    @property
    def feedbacks(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("en", self.feedback_en),
                ("sq", self.feedback_sq),
                ("sr", self.feedback_sr),
            )
            if v
        }

    def text(self, lang: str) -> str:
        return pick(self.texts, lang)

    def general_feedback(self, lang: str) -> str:
        return pick(self.feedbacks, lang)


class QuizKind(enum.StrEnum):
    PRACTICE = "practice"
    PRE_TEST = "pre_test"
    POST_TEST = "post_test"


QUIZ_KIND_LABELS = {
    QuizKind.PRACTICE: _l("Practice quiz"),
    QuizKind.PRE_TEST: _l("Pre-test"),
    QuizKind.POST_TEST: _l("Post-test"),
}


class ShowWhen(enum.StrEnum):
    AFTER_SUBMIT = "after_submit"
    AFTER_CLOSE = "after_close"
    NEVER = "never"


SHOW_WHEN_LABELS = {
    ShowWhen.AFTER_SUBMIT: _l("As soon as the attempt is submitted"),
    ShowWhen.AFTER_CLOSE: _l("After the quiz closes"),
    ShowWhen.NEVER: _l("Never (trainers only)"),
}


class Quiz(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_run.id", ondelete="CASCADE"), index=True
    )
    bank_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("question_bank.id"), index=True)
    kind: so.Mapped[QuizKind] = so.mapped_column(str_enum(QuizKind, 20))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    # None: every active question of the bank; otherwise this many at random per competence.
    per_competence: so.Mapped[int | None] = so.mapped_column()
    shuffle_questions: so.Mapped[bool] = so.mapped_column(default=True)
    shuffle_choices: so.Mapped[bool] = so.mapped_column(default=True)
    time_limit_minutes: so.Mapped[int | None] = so.mapped_column()
    max_attempts: so.Mapped[int | None] = so.mapped_column()  # None: unlimited
    pass_mark: so.Mapped[float] = so.mapped_column(sa.Float, default=70.0)  # percent
    opens_at: so.Mapped[datetime] = so.mapped_column()
    closes_at: so.Mapped[datetime | None] = so.mapped_column()
    show_results: so.Mapped[ShowWhen] = so.mapped_column(
        str_enum(ShowWhen, 20), default=ShowWhen.AFTER_SUBMIT
    )
    show_answers: so.Mapped[ShowWhen] = so.mapped_column(
        str_enum(ShowWhen, 20), default=ShowWhen.AFTER_CLOSE
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    run: so.Mapped[CourseRun] = so.relationship()
    bank: so.Mapped[QuestionBank] = so.relationship()

    @property
    def kind_label(self) -> str:
        return str(QUIZ_KIND_LABELS[self.kind])

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now and (self.closes_at is None or now < self.closes_at)

    def is_closed(self, now: datetime) -> bool:
        return self.closes_at is not None and now >= self.closes_at

    def reveals(self, when: ShowWhen, now: datetime) -> bool:
        if when == ShowWhen.AFTER_SUBMIT:
            return True
        return when == ShowWhen.AFTER_CLOSE and self.is_closed(now)


class AttemptState(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    TIMED_OUT = "timed_out"  # closed and graded by the server when its time ran out


ATTEMPT_STATE_LABELS = {
    AttemptState.OPEN: _l("In progress"),
    AttemptState.SUBMITTED: _l("Submitted"),
    AttemptState.TIMED_OUT: _l("Time ran out"),
}
FINAL_STATES = (AttemptState.SUBMITTED, AttemptState.TIMED_OUT)


class Attempt(db.Model):
    __table_args__ = (sa.UniqueConstraint("quiz_id", "person_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quiz_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("quiz.id", ondelete="CASCADE"), index=True
    )
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    number: so.Mapped[int] = so.mapped_column()
    state: so.Mapped[AttemptState] = so.mapped_column(str_enum(AttemptState, 20), index=True)
    started_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # The time limit, capped at the quiz's closing time; None when neither applies.
    deadline: so.Mapped[datetime | None] = so.mapped_column(index=True)
    last_saved_at: so.Mapped[datetime | None] = so.mapped_column()
    finished_at: so.Mapped[datetime | None] = so.mapped_column()
    score: so.Mapped[float | None] = so.mapped_column(sa.Float)
    max_score: so.Mapped[float | None] = so.mapped_column(sa.Float)
    percent: so.Mapped[float | None] = so.mapped_column(sa.Float)
    passed: so.Mapped[bool | None] = so.mapped_column()

    quiz: so.Mapped[Quiz] = so.relationship()
    person: so.Mapped[Person] = so.relationship()
    slots: so.Mapped[list["AttemptSlot"]] = so.relationship(
        back_populates="attempt", order_by="AttemptSlot.position", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.state == AttemptState.OPEN

    @property
    def state_label(self) -> str:
        return str(ATTEMPT_STATE_LABELS[self.state])


class AttemptSlot(db.Model):
    """One drawn question in an attempt: its place, its choice order, the answer and the score."""

    __table_args__ = (
        sa.UniqueConstraint("attempt_id", "position"),
        sa.UniqueConstraint("attempt_id", "question_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    attempt_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("attempt.id", ondelete="CASCADE"), index=True
    )
    question_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("question.id"), index=True)
    position: so.Mapped[int] = so.mapped_column()
    layout: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # SQL NULL (not JSON null) when unanswered, so "answered" is a plain IS NOT NULL.
    response: so.Mapped[object | None] = so.mapped_column(sa.JSON(none_as_null=True))
    answered_at: so.Mapped[datetime | None] = so.mapped_column()
    points: so.Mapped[float] = so.mapped_column(sa.Float, default=1.0)
    score: so.Mapped[float | None] = so.mapped_column(sa.Float)

    attempt: so.Mapped[Attempt] = so.relationship(back_populates="slots")
    question: so.Mapped[Question] = so.relationship()

    @property
    def correct(self) -> bool:
        return self.score is not None and self.score >= self.points - 1e-9

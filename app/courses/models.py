from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User
from app.extensions import db
from app.i18n import Localized
from app.places.models import Municipality
from app.programmes.models import Programme
from app.timeutil import utcnow


class Course(Localized, db.Model):
    """Course content, loaded from curriculum files; runs are its offerings."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    title_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    title_sq: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    title_sr: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    summary_en: so.Mapped[str] = so.mapped_column(sa.Text)
    summary_sq: so.Mapped[str | None] = so.mapped_column(sa.Text)
    summary_sr: so.Mapped[str | None] = so.mapped_column(sa.Text)
    description_en: so.Mapped[str] = so.mapped_column(sa.Text)
    description_sq: so.Mapped[str | None] = so.mapped_column(sa.Text)
    description_sr: so.Mapped[str | None] = so.mapped_column(sa.Text)
    hours: so.Mapped[int] = so.mapped_column()
    level: so.Mapped[int] = so.mapped_column()
    audience: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    synced_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    competences: so.Mapped[list["CourseCompetence"]] = so.relationship(
        cascade="all, delete-orphan", order_by="CourseCompetence.code"
    )
    topics: so.Mapped[list["CourseTopic"]] = so.relationship(
        cascade="all, delete-orphan", order_by="CourseTopic.topic"
    )
    modules: so.Mapped[list["Module"]] = so.relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Module.position"
    )

    @property
    def competence_codes(self) -> list[str]:
        return [c.code for c in self.competences]

    @property
    def topic_names(self) -> list[str]:
        return [t.topic for t in self.topics]


class CourseCompetence(db.Model):
    """A DigComp 2.2 competence (e.g. "4.2") a course develops."""

    __table_args__ = (sa.UniqueConstraint("course_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(5), index=True)


class CourseTopic(db.Model):
    __table_args__ = (sa.UniqueConstraint("course_id", "topic"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    topic: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)


class Module(Localized, db.Model):
    __table_args__ = (sa.UniqueConstraint("course_id", "slug"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    slug: so.Mapped[str] = so.mapped_column(sa.String(80))
    position: so.Mapped[int] = so.mapped_column()
    title_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    title_sq: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    title_sr: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    course: so.Mapped[Course] = so.relationship(back_populates="modules")
    lessons: so.Mapped[list["Lesson"]] = so.relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="Lesson.position"
    )


class Lesson(Localized, db.Model):
    __table_args__ = (sa.UniqueConstraint("module_id", "slug"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    module_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("module.id", ondelete="CASCADE"), index=True
    )
    slug: so.Mapped[str] = so.mapped_column(sa.String(80))
    position: so.Mapped[int] = so.mapped_column()
    title_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    title_sq: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    title_sr: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    body_md: so.Mapped[str] = so.mapped_column(sa.Text)
    minutes: so.Mapped[int] = so.mapped_column(default=45)

    module: so.Mapped[Module] = so.relationship(back_populates="lessons")


class CourseRun(db.Model):
    """One offering of a course in a programme: dates, place, seats and trainers."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"), index=True)
    starts_on: so.Mapped[date] = so.mapped_column(index=True)
    ends_on: so.Mapped[date] = so.mapped_column()
    venue: so.Mapped[str] = so.mapped_column(sa.String(200))
    municipality_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("municipality.id"), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(10), default="sq")
    capacity: so.Mapped[int] = so.mapped_column()
    enrol_opens_at: so.Mapped[datetime] = so.mapped_column()
    enrol_closes_at: so.Mapped[datetime] = so.mapped_column()
    requires_approval: so.Mapped[bool] = so.mapped_column(default=False)
    published: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    course: so.Mapped[Course] = so.relationship()
    programme: so.Mapped[Programme] = so.relationship()
    municipality: so.Mapped[Municipality] = so.relationship()
    trainer_rows: so.Mapped[list["CourseRunTrainer"]] = so.relationship(
        cascade="all, delete-orphan", back_populates="run"
    )

    def enrolment_open(self, now: datetime) -> bool:
        return self.published and self.enrol_opens_at <= now < self.enrol_closes_at


class CourseRunTrainer(db.Model):
    __table_args__ = (sa.UniqueConstraint("run_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course_run.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)

    run: so.Mapped[CourseRun] = so.relationship(back_populates="trainer_rows")
    user: so.Mapped[User] = so.relationship()

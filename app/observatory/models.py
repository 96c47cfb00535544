"""The Digital Agenda Observatory: strategies, measures and milestones rated each year on the
Open Government Partnership scale, municipal indicators per year, and numbered
recommendations whose uptake is assessed in a later year."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.extensions import db, str_enum
from app.i18n import Localized
from app.places.models import Municipality
from app.timeutil import utcnow


class Status(enum.StrEnum):
    """The OGP implementation scale, from worst to best."""

    NO_EVIDENCE = "no_evidence"
    NOT_STARTED = "not_started"
    LIMITED = "limited"
    SUBSTANTIAL = "substantial"
    COMPLETE = "complete"


STATUS_LABELS = {
    Status.NO_EVIDENCE: _l("No evidence available"),
    Status.NOT_STARTED: _l("Not started"),
    Status.LIMITED: _l("Limited"),
    Status.SUBSTANTIAL: _l("Substantial"),
    Status.COMPLETE: _l("Complete"),
}
STATUS_HELP = {
    Status.NO_EVIDENCE: _l("Nothing public shows whether work has begun."),
    Status.NOT_STARTED: _l("The institution confirms that work has not begun."),
    Status.LIMITED: _l("Work has begun, but less than half of the milestone is done."),
    Status.SUBSTANTIAL: _l("Half or more of the milestone is done, but not all of it."),
    Status.COMPLETE: _l("The milestone is fully done, as written."),
}
# Ratings of progress must be verifiable by readers of the report.
NEEDS_EVIDENCE = frozenset({Status.LIMITED, Status.SUBSTANTIAL, Status.COMPLETE})


class Bilingual(enum.StrEnum):
    NO = "no"
    PARTIAL = "partial"
    FULL = "full"


BILINGUAL_LABELS = {
    Bilingual.NO: _l("One language only"),
    Bilingual.PARTIAL: _l("Partly in both languages"),
    Bilingual.FULL: _l("Fully in Albanian and Serbian"),
}


class Uptake(enum.StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


UPTAKE_LABELS = {
    Uptake.NONE: _l("Not taken up"),
    Uptake.PARTIAL: _l("Partly taken up"),
    Uptake.FULL: _l("Fully taken up"),
}

# The usual e-government maturity stages of a municipality's online services.
MATURITY_LEVELS = range(0, 5)
MATURITY_LABELS = {
    0: _l("0 – no services online"),
    1: _l("1 – information only"),
    2: _l("2 – forms to download"),
    3: _l("3 – applications submitted online"),
    4: _l("4 – fully online, payment included"),
}

INDICATOR_LABELS = {
    "online_services": _l("Online services"),
    "service_maturity": _l("Service maturity"),
    "transparency_score": _l("Website transparency score"),
    "bilingual": _l("Bilingual website"),
    "open_datasets": _l("Open datasets"),
}


class Strategy(Localized, db.Model):
    """A strategy document, such as the Digital Agenda of Kosovo 2030."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    title_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    title_sq: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    title_sr: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    starts_year: so.Mapped[int] = so.mapped_column()
    ends_year: so.Mapped[int] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    measures: so.Mapped[list["Measure"]] = so.relationship(
        back_populates="strategy", cascade="all, delete-orphan"
    )


class Measure(Localized, db.Model):
    __table_args__ = (sa.UniqueConstraint("strategy_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    strategy_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("strategy.id", ondelete="CASCADE"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(20))
    title_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    title_sq: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    title_sr: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    responsible: so.Mapped[str] = so.mapped_column(sa.String(200))

    strategy: so.Mapped[Strategy] = so.relationship(back_populates="measures")
    milestones: so.Mapped[list["Milestone"]] = so.relationship(
        back_populates="measure", cascade="all, delete-orphan"
    )


class Milestone(Localized, db.Model):
    __table_args__ = (sa.UniqueConstraint("measure_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    measure_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("measure.id", ondelete="CASCADE"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(20))
    title_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    title_sq: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    title_sr: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    # Empty: the measure's responsible institution.
    responsible: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    due_on: so.Mapped[date] = so.mapped_column()

    measure: so.Mapped[Measure] = so.relationship(back_populates="milestones")
    assessments: so.Mapped[list["MilestoneAssessment"]] = so.relationship(
        back_populates="milestone", cascade="all, delete-orphan"
    )

    @property
    def responsible_institution(self) -> str:
        return self.responsible or self.measure.responsible


class MilestoneAssessment(db.Model):
    """A milestone's state as assessed for one year."""

    __table_args__ = (sa.UniqueConstraint("milestone_id", "year"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    milestone_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("milestone.id", ondelete="CASCADE"), index=True
    )
    year: so.Mapped[int] = so.mapped_column(index=True)
    status: so.Mapped[Status] = so.mapped_column(str_enum(Status, 20))
    evidence: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # one link per line
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    assessor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    assessed_on: so.Mapped[date] = so.mapped_column()
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    milestone: so.Mapped[Milestone] = so.relationship(back_populates="assessments")
    assessor: so.Mapped[User | None] = so.relationship()

    @property
    def evidence_links(self) -> list[str]:
        return [line for line in (self.evidence or "").splitlines() if line.strip()]

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


class MunicipalIndicator(db.Model):
    """A municipality's e-government indicators for one year; empty means not measured."""

    __table_args__ = (sa.UniqueConstraint("municipality_id", "year"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    municipality_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("municipality.id"), index=True)
    year: so.Mapped[int] = so.mapped_column(index=True)
    online_services: so.Mapped[int | None] = so.mapped_column()
    service_maturity: so.Mapped[int | None] = so.mapped_column()  # 0–4, MATURITY_LABELS
    transparency_score: so.Mapped[int | None] = so.mapped_column()  # 0–100
    bilingual: so.Mapped[Bilingual | None] = so.mapped_column(str_enum(Bilingual, 10))
    open_datasets: so.Mapped[int | None] = so.mapped_column()
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )

    municipality: so.Mapped[Municipality] = so.relationship()


class Recommendation(Localized, db.Model):
    """Recommendation number N of the report for a year, addressed to institutions."""

    __table_args__ = (sa.UniqueConstraint("year", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    year: so.Mapped[int] = so.mapped_column(index=True)
    number: so.Mapped[int] = so.mapped_column()
    text_en: so.Mapped[str] = so.mapped_column(sa.Text)
    text_sq: so.Mapped[str | None] = so.mapped_column(sa.Text)
    text_sr: so.Mapped[str | None] = so.mapped_column(sa.Text)
    addressed_to: so.Mapped[str] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    uptakes: so.Mapped[list["RecommendationUptake"]] = so.relationship(
        back_populates="recommendation",
        cascade="all, delete-orphan",
        order_by="RecommendationUptake.year",
    )

    @property
    def label(self) -> str:
        return f"{self.year}/{self.number}"


class RecommendationUptake(db.Model):
    """How far the addressed institutions took up a recommendation, as seen in a later year."""

    __table_args__ = (sa.UniqueConstraint("recommendation_id", "year"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recommendation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("recommendation.id", ondelete="CASCADE"), index=True
    )
    year: so.Mapped[int] = so.mapped_column(index=True)
    uptake: so.Mapped[Uptake] = so.mapped_column(str_enum(Uptake, 10))
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    assessor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    assessed_on: so.Mapped[date] = so.mapped_column()

    recommendation: so.Mapped[Recommendation] = so.relationship(back_populates="uptakes")
    assessor: so.Mapped[User | None] = so.relationship()

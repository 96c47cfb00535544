"""A programme's logframe (indicators, targets, hand-entered values) and the reports sent.

An indicator is either linked to a built-in measure (app/reports/measures.py), computed
from what trainers and learners recorded, or "manual": its values are entered per period
with a link to the evidence, and reports mark them as such.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.extensions import db, str_enum
from app.programmes.models import Programme, ReportingPeriod
from app.timeutil import utcnow

MANUAL = "manual"


class IndicatorLevel(enum.StrEnum):
    OUTPUT = "output"
    OUTCOME = "outcome"
    IMPACT = "impact"


class IndicatorUnit(enum.StrEnum):
    COUNT = "count"
    PERCENT = "percent"


LEVEL_LABELS = {
    IndicatorLevel.OUTPUT: _l("Output"),
    IndicatorLevel.OUTCOME: _l("Outcome"),
    IndicatorLevel.IMPACT: _l("Impact"),
}
UNIT_LABELS = {IndicatorUnit.COUNT: _l("Number"), IndicatorUnit.PERCENT: _l("Percentage")}


class Indicator(db.Model):
    __table_args__ = (sa.UniqueConstraint("programme_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(20))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    level: so.Mapped[IndicatorLevel] = so.mapped_column(str_enum(IndicatorLevel, 10))
    unit: so.Mapped[IndicatorUnit] = so.mapped_column(str_enum(IndicatorUnit, 10))
    measure: so.Mapped[str] = so.mapped_column(sa.String(40))  # a key of MEASURES, or MANUAL
    baseline_value: so.Mapped[float | None] = so.mapped_column()
    baseline_year: so.Mapped[int | None] = so.mapped_column()
    target: so.Mapped[float | None] = so.mapped_column()  # life of programme
    means_of_verification: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    programme: so.Mapped[Programme] = so.relationship()

    @property
    def manual(self) -> bool:
        return self.measure == MANUAL


class IndicatorTarget(db.Model):
    """The target of an indicator for one reporting period."""

    __table_args__ = (sa.UniqueConstraint("indicator_id", "period_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    indicator_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("indicator.id", ondelete="CASCADE"), index=True
    )
    period_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("reporting_period.id", ondelete="CASCADE"), index=True
    )
    value: so.Mapped[float] = so.mapped_column()

    period: so.Mapped[ReportingPeriod] = so.relationship()


class ManualValue(db.Model):
    """A value entered by hand for an indicator the app cannot compute, with its evidence."""

    __table_args__ = (sa.UniqueConstraint("indicator_id", "period_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    indicator_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("indicator.id", ondelete="CASCADE"), index=True
    )
    period_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("reporting_period.id", ondelete="CASCADE"), index=True
    )
    value: so.Mapped[float] = so.mapped_column()
    evidence_url: so.Mapped[str] = so.mapped_column(sa.String(500))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    entered_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    entered_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    period: so.Mapped[ReportingPeriod] = so.relationship()
    entered_by: so.Mapped[User | None] = so.relationship()


class ExportFormat(enum.StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    PDF = "pdf"
    IATI = "iati"


class ReportSnapshot(db.Model):
    """A report frozen when it was sent: its exports are reproduced from `content` (the
    Report as JSON), whatever changed in the data since."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    starts_on: so.Mapped[date] = so.mapped_column()
    ends_on: so.Mapped[date] = so.mapped_column()
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    public: so.Mapped[bool] = so.mapped_column(default=False)
    content: so.Mapped[str] = so.mapped_column(sa.Text)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    created_by: so.Mapped[User | None] = so.relationship()


class ReportExport(db.Model):
    """Every report file handed out: who, when, which programme, period and format."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    format: so.Mapped[ExportFormat] = so.mapped_column(str_enum(ExportFormat, 10))
    starts_on: so.Mapped[date] = so.mapped_column()
    ends_on: so.Mapped[date] = so.mapped_column()
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    public: so.Mapped[bool] = so.mapped_column(default=False)
    snapshot_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("report_snapshot.id", ondelete="SET NULL")
    )
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

    user: so.Mapped[User | None] = so.relationship()
    snapshot: so.Mapped[ReportSnapshot | None] = so.relationship()

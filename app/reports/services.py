"""Changes to a programme's logframe and to the record of reports sent. Flush, never commit."""

import hashlib
from datetime import date
from urllib.parse import urlparse

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import audit
from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.programmes.models import Programme, ReportingPeriod

from . import data
from .measures import MEASURES
from .models import (
    MANUAL,
    ExportFormat,
    Indicator,
    IndicatorLevel,
    IndicatorTarget,
    IndicatorUnit,
    ManualValue,
    ReportExport,
    ReportSnapshot,
)

# Means of verification a standard logframe proposes, by what the measure is counted from.
_VERIFICATION = {
    "person": _l("Attendance registers, test results and surveys recorded in Akademia"),
    "session": _l("Session schedule and attendance registers in Akademia"),
    "municipality": _l("Attendance registers and participant profiles in Akademia"),
    "institution": _l("Participant profiles and activity lists in Akademia"),
}


def _check_values(*, code: str, title: str, measure: str, unit: IndicatorUnit, **numbers) -> None:
    if not code.strip() or len(code) > 20:
        raise DomainError(_("Give the indicator a code of at most 20 characters."), field="code")
    if not title.strip():
        raise DomainError(_("Give the indicator a title."), field="title")
    if measure != MANUAL and measure not in MEASURES:
        raise DomainError(_("Choose what the indicator measures."), field="measure")
    for name, value in numbers.items():
        if value is not None and value < 0:
            raise DomainError(_("Give a value of zero or more."), field=name)
        if unit == IndicatorUnit.PERCENT and name != "baseline_year" and (value or 0) > 100:
            raise DomainError(_("A percentage cannot exceed 100."), field=name)


def _code_taken(programme_id: int, code: str, exclude: int | None) -> bool:
    query = sa.select(Indicator.id).where(
        Indicator.programme_id == programme_id, Indicator.code == code
    )
    if exclude is not None:
        query = query.where(Indicator.id != exclude)
    return db.session.scalar(query) is not None


def save_indicator(
    *,
    programme: Programme,
    indicator: Indicator | None = None,
    code: str,
    title: str,
    level: IndicatorLevel,
    unit: IndicatorUnit,
    measure: str,
    baseline_value: float | None,
    baseline_year: int | None,
    target: float | None,
    means_of_verification: str,
) -> Indicator:
    """Create an indicator in the programme's logframe, or change one. A computed
    indicator takes its measure's unit."""
    code, title = code.strip(), title.strip()
    if measure in MEASURES:
        unit = MEASURES[measure].unit
    _check_values(
        code=code,
        title=title,
        measure=measure,
        unit=unit,
        baseline_value=baseline_value,
        target=target,
        baseline_year=baseline_year,
    )
    if baseline_year is not None and not 1990 <= baseline_year <= 2100:
        raise DomainError(_("Give the baseline year as four digits."), field="baseline_year")
    if _code_taken(programme.id, code, indicator.id if indicator else None):
        raise DomainError(_("Another indicator of this programme has this code."), field="code")
    if indicator is None:
        last = db.session.scalar(
            sa.select(sa.func.max(Indicator.position)).where(Indicator.programme_id == programme.id)
        )
        indicator = Indicator(programme_id=programme.id, position=(last or 0) + 1)
        db.session.add(indicator)
    indicator.code, indicator.title, indicator.level, indicator.unit = code, title, level, unit
    indicator.measure = measure
    indicator.baseline_value, indicator.baseline_year = baseline_value, baseline_year
    indicator.target = target
    indicator.means_of_verification = (means_of_verification or "").strip()
    db.session.flush()
    return indicator


def delete_indicator(indicator: Indicator) -> None:
    db.session.delete(indicator)
    db.session.flush()


def add_standard_indicators(programme: Programme, *, by: User | None = None) -> list[Indicator]:
    """One indicator per built-in measure the logframe does not use yet, numbered on."""
    used = set(
        db.session.scalars(
            sa.select(Indicator.measure).where(Indicator.programme_id == programme.id)
        )
    )
    count = db.session.scalar(
        sa.select(sa.func.count(Indicator.id)).where(Indicator.programme_id == programme.id)
    )
    added = []
    for measure in MEASURES.values():
        if measure.key in used:
            continue
        count += 1
        code = f"S{count}"
        while _code_taken(programme.id, code, None):
            count += 1
            code = f"S{count}"
        indicator = Indicator(
            programme_id=programme.id,
            code=code,
            title=str(measure.label),
            level=IndicatorLevel(measure.level),
            unit=measure.unit,
            measure=measure.key,
            means_of_verification=str(_VERIFICATION[measure.subject]),
            position=count,
        )
        db.session.add(indicator)
        added.append(indicator)
    db.session.flush()
    return added


def set_targets(indicator: Indicator, targets: dict[int, float | None]) -> None:
    """Targets per reporting period (period id → value; None removes the target)."""
    periods = {p.id for p in indicator.programme.periods}
    existing = {
        t.period_id: t
        for t in db.session.scalars(
            sa.select(IndicatorTarget).where(IndicatorTarget.indicator_id == indicator.id)
        )
    }
    for period_id, value in targets.items():
        if period_id not in periods:
            raise DomainError(_("This reporting period is not the programme's."))
        if value is not None and (
            value < 0 or (indicator.unit == IndicatorUnit.PERCENT and value > 100)
        ):
            raise DomainError(_("Give targets from 0 (and at most 100 for a percentage)."))
        row = existing.get(period_id)
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(
                IndicatorTarget(indicator_id=indicator.id, period_id=period_id, value=value)
            )
        else:
            row.value = value
    db.session.flush()


def _valid_url(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def enter_value(
    *,
    indicator: Indicator,
    period: ReportingPeriod,
    value: float,
    evidence_url: str,
    note: str | None,
    by: User | None,
) -> ManualValue:
    """A value for an indicator the app cannot compute, with a link to its evidence."""
    if not indicator.manual:
        raise DomainError(
            _("This indicator is computed from the data; it takes no values by hand.")
        )
    if period.programme_id != indicator.programme_id:
        raise DomainError(_("This reporting period is not the programme's."))
    if value is None or value < 0 or (indicator.unit == IndicatorUnit.PERCENT and value > 100):
        raise DomainError(
            _("Give a value of zero or more (at most 100 for a percentage)."), field="value"
        )
    evidence_url = (evidence_url or "").strip()
    if not _valid_url(evidence_url):
        raise DomainError(
            _("Give the link to the evidence, starting with https:// or http://."),
            field="evidence_url",
        )
    row = db.session.scalar(
        sa.select(ManualValue).where(
            ManualValue.indicator_id == indicator.id, ManualValue.period_id == period.id
        )
    )
    if row is None:
        row = ManualValue(indicator_id=indicator.id, period_id=period.id)
        db.session.add(row)
    row.value, row.evidence_url = value, evidence_url
    row.note = (note or "").strip()[:500] or None
    row.entered_by_id = by.id if by else None
    db.session.flush()
    return row


def check_range(programme: Programme, starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is None or ends_on is None:
        raise DomainError(_("Choose a reporting period or give both dates."))
    if ends_on < starts_on:
        raise DomainError(_("The period ends before it starts."))
    if (ends_on - starts_on).days > 366 * 10:
        raise DomainError(_("Choose a period of at most ten years."))


def freeze(
    *, programme: Programme, report: data.Report, title: str, by: User | None
) -> ReportSnapshot:
    """Keep the report exactly as computed now, to reproduce what was sent to the donor."""
    title = (title or "").strip()
    if not title:
        raise DomainError(
            _("Name the snapshot, e.g. “Q1 report sent to the donor”."), field="title"
        )
    content = data.to_json(report)
    snapshot = ReportSnapshot(
        programme_id=programme.id,
        title=title[:200],
        starts_on=report.starts_on,
        ends_on=report.ends_on,
        language=report.language,
        public=report.public,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        created_by_id=by.id if by else None,
    )
    db.session.add(snapshot)
    db.session.flush()
    audit.record(
        "report.freeze",
        subject_type="report_snapshot",
        subject_id=snapshot.id,
        actor=by,
        programme_id=programme.id,
        after={
            "starts_on": snapshot.starts_on,
            "ends_on": snapshot.ends_on,
            "language": snapshot.language,
            "public": snapshot.public,
            "sha256": snapshot.sha256,
        },
    )
    return snapshot


def record_export(
    *,
    programme: Programme,
    report: data.Report,
    format: ExportFormat,
    by: User | None,
    snapshot: ReportSnapshot | None = None,
) -> ReportExport:
    """Keep the record of a report sent out (and its audit event)."""
    export = ReportExport(
        programme_id=programme.id,
        format=format,
        starts_on=report.starts_on,
        ends_on=report.ends_on,
        language=report.language,
        public=report.public,
        snapshot_id=snapshot.id if snapshot else None,
        user_id=by.id if by else None,
    )
    db.session.add(export)
    db.session.flush()
    audit.record(
        "report.export",
        subject_type="report_export",
        subject_id=export.id,
        actor=by,
        programme_id=programme.id,
        after={
            "format": format,
            "starts_on": export.starts_on,
            "ends_on": export.ends_on,
            "language": export.language,
            "public": export.public,
            "snapshot_id": export.snapshot_id,
        },
    )
    return export

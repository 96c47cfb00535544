"""Compute a programme's donor report for a period: every indicator with its breakdowns."""

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.extensions import db
from app.programmes.models import Programme, ReportingPeriod
from app.timeutil import utcnow

from . import labels
from .aggregate import TOTAL, Value, compute
from .data import DIMENSIONS, Cell, IndicatorResult, PeriodTarget, ProgrammeInfo, Report
from .materialise import reused
from .measures import MEASURES
from .models import Indicator, IndicatorTarget, IndicatorUnit, ManualValue
from .scope import Scope
from .suppression import suppress


def _programme_info(programme: Programme) -> ProgrammeInfo:
    config = current_app.config
    return ProgrammeInfo(
        code=programme.code,
        name=programme.name,
        donor=programme.donor,
        grant_code=programme.grant_code,
        starts_on=programme.starts_on,
        ends_on=programme.ends_on,
        iati_identifier=programme.iati_identifier,
        reporting_org_ref=config.get("IATI_REPORTING_ORG_REF"),
        reporting_org_name=config.get("CERT_ISSUER") or "Akademia",
    )


def period_label(programme: Programme, starts_on: date, ends_on: date) -> str:
    for period in programme.periods:
        if (period.starts_on, period.ends_on) == (starts_on, ends_on):
            return period.name
    return f"{starts_on.isoformat()} – {ends_on.isoformat()}"


def _covered(periods: list[ReportingPeriod], starts_on: date, ends_on: date) -> list[int]:
    """The reporting periods lying wholly inside the range, whose targets and manual values
    add up to the range's."""
    return [p.id for p in periods if starts_on <= p.starts_on and p.ends_on <= ends_on]


def _combine(values: list[float], unit: IndicatorUnit) -> float | None:
    if not values:
        return None
    # Counts add up over periods; a percentage cannot, so the latest period's stands.
    return sum(values) if unit == IndicatorUnit.COUNT else values[-1]


def _cells(
    dimension: str, values: dict[str, Value], unit: IndicatorUnit, min_cell: int
) -> list[Cell]:
    names = labels.for_dimension(dimension)
    ordered = sorted(values.items(), key=lambda item: labels.sort_key(dimension, item[0]))
    hidden = suppress(ordered, unit, min_cell) if min_cell else set()
    return [
        Cell(
            key=key,
            label=names.get(key, key),
            value=None if key in hidden else value.value,
            suppressed=key in hidden,
        )
        for key, value in ordered
    ]


def compute_report(
    programme: Programme,
    *,
    starts_on: date,
    ends_on: date,
    language: str = "en",
    public: bool = False,
    now: datetime | None = None,
) -> Report:
    """Every indicator of the programme over the days from starts_on to ends_on."""
    now = now or utcnow()
    min_cell = programme.min_public_cell if public else 0
    scope = Scope(programme.id, starts_on, ends_on, programme.attendance_threshold, now)
    indicators = db.session.scalars(
        sa.select(Indicator)
        .where(Indicator.programme_id == programme.id)
        .order_by(Indicator.position, Indicator.code)
    ).all()
    ids = [i.id for i in indicators]
    periods = sorted(programme.periods, key=lambda p: p.starts_on)
    covered = _covered(periods, starts_on, ends_on)
    targets = db.session.scalars(
        sa.select(IndicatorTarget).where(IndicatorTarget.indicator_id.in_(ids))
    ).all()
    manual = db.session.scalars(
        sa.select(ManualValue).where(
            ManualValue.indicator_id.in_(ids), ManualValue.period_id.in_(covered)
        )
    ).all()
    order = {p.id: n for n, p in enumerate(periods)}
    with force_locale(language), reused(scope) as reusing:
        results = [
            _result(indicator, reusing, periods, covered, targets, manual, order, min_cell)
            for indicator in indicators
        ]
        dimension_labels = {d: labels.dimension_label(d) for d in DIMENSIONS}
    return Report(
        programme=_programme_info(programme),
        period_label=period_label(programme, starts_on, ends_on),
        starts_on=starts_on,
        ends_on=ends_on,
        generated_at=now.replace(microsecond=0),
        language=language,
        public=public,
        min_cell=min_cell,
        indicators=results,
        dimension_labels=dimension_labels,
    )


def _result(indicator, scope, periods, covered, targets, manual, order, min_cell):
    unit = indicator.unit
    own_targets = {t.period_id: t.value for t in targets if t.indicator_id == indicator.id}
    period_target = _combine(
        [own_targets[p] for p in sorted(covered, key=order.get) if p in own_targets], unit
    )
    breakdowns: dict[str, list[Cell]] = {}
    evidence = None
    if indicator.manual:
        entered = sorted(
            (v for v in manual if v.indicator_id == indicator.id), key=lambda v: order[v.period_id]
        )
        actual = _combine([v.value for v in entered], unit)
        evidence = " ".join(v.evidence_url for v in entered) or None
        measure_label = _("Entered by hand")
    else:
        measure = MEASURES[indicator.measure]
        actual = compute(measure, scope)[TOTAL].value
        for dimension in DIMENSIONS:
            if dimension in measure.dimensions:
                values = compute(measure, scope, dimension)
                breakdowns[dimension] = _cells(dimension, values, unit, min_cell)
        measure_label = str(measure.label)
    goal = period_target if period_target is not None else indicator.target
    return IndicatorResult(
        code=indicator.code,
        title=indicator.title,
        level=indicator.level.value,
        unit=unit.value,
        measure=indicator.measure,
        measure_label=measure_label,
        manual=indicator.manual,
        baseline_value=indicator.baseline_value,
        baseline_year=indicator.baseline_year,
        target=indicator.target,
        period_target=period_target,
        actual=actual,
        percent_of_target=round(100 * actual / goal, 1) if actual is not None and goal else None,
        means_of_verification=indicator.means_of_verification,
        evidence_url=evidence,
        breakdowns=breakdowns,
        targets=[
            PeriodTarget(p.name, p.starts_on, p.ends_on, own_targets.get(p.id)) for p in periods
        ],
    )

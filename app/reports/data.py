"""A donor report as plain values: what every output (page, XLSX, CSV, PDF, IATI) is made from.

A report is computed once from the database (app/reports/compute.py) and then only read. It
round-trips through JSON (`to_json` / `from_json`), which is how a report frozen when it was
sent to the donor is kept and reproduced exactly later.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import date, datetime

# The ways a measure can be broken down; the order is the order of sheets and sections.
DIMENSIONS = ("sex", "age_band", "municipality", "region", "institution_type", "target_group")

LEVELS = ("output", "outcome", "impact")
UNITS = ("count", "percent")


@dataclass(frozen=True)
class Cell:
    """One value of a breakdown: e.g. dimension "sex", key "female", label "Female"."""

    key: str  # stable code ("female", a municipality code, "unknown" when not recorded)
    label: str  # in the report's language
    value: float | None  # None when suppressed
    suppressed: bool = False


@dataclass(frozen=True)
class PeriodTarget:
    period: str  # the reporting period's name, e.g. "2026 Q1"
    starts_on: date
    ends_on: date
    target: float | None


@dataclass(frozen=True)
class IndicatorResult:
    code: str  # e.g. "1.1"
    title: str
    level: str  # one of LEVELS
    unit: str  # one of UNITS
    measure: str  # the built-in measure's key, or "manual"
    measure_label: str
    manual: bool  # entered by hand rather than computed
    baseline_value: float | None
    baseline_year: int | None
    target: float | None  # life of programme
    period_target: float | None  # the target of the report's period, if it is one
    actual: float | None
    percent_of_target: float | None  # actual / period_target (or target) × 100
    means_of_verification: str
    evidence_url: str | None  # for manual values
    breakdowns: dict[str, list[Cell]] = field(default_factory=dict)  # keys from DIMENSIONS
    targets: list[PeriodTarget] = field(default_factory=list)


@dataclass(frozen=True)
class ProgrammeInfo:
    code: str
    name: str
    donor: str
    grant_code: str | None
    starts_on: date
    ends_on: date
    iati_identifier: str | None  # "<reporting-org ref>-<activity id>", when the programme has one
    reporting_org_ref: str | None
    reporting_org_name: str


@dataclass(frozen=True)
class Report:
    programme: ProgrammeInfo
    period_label: str  # "2026 Q1" or "1 Jan 2026 – 31 Mar 2026"
    starts_on: date
    ends_on: date
    generated_at: datetime
    language: str  # "en", "sq" or "sr_Latn"
    public: bool  # small cells suppressed
    min_cell: int  # the suppression threshold applied (0 when not public)
    indicators: list[IndicatorResult]
    dimension_labels: dict[str, str]  # dimension key -> label in the report's language


def _default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"Cannot store {type(value).__name__} in a report")


def to_json(report: Report) -> str:
    return json.dumps(dataclasses.asdict(report), default=_default, ensure_ascii=False)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def from_json(text: str) -> Report:
    raw = json.loads(text)
    programme = ProgrammeInfo(
        **{
            **raw["programme"],
            "starts_on": _date(raw["programme"]["starts_on"]),
            "ends_on": _date(raw["programme"]["ends_on"]),
        }
    )
    indicators = []
    for item in raw["indicators"]:
        breakdowns = {
            dimension: [Cell(**cell) for cell in cells]
            for dimension, cells in item["breakdowns"].items()
        }
        targets = [
            PeriodTarget(
                period=t["period"],
                starts_on=_date(t["starts_on"]),
                ends_on=_date(t["ends_on"]),
                target=t["target"],
            )
            for t in item["targets"]
        ]
        indicators.append(IndicatorResult(**{**item, "breakdowns": breakdowns, "targets": targets}))
    return Report(
        programme=programme,
        period_label=raw["period_label"],
        starts_on=_date(raw["starts_on"]),
        ends_on=_date(raw["ends_on"]),
        generated_at=datetime.fromisoformat(raw["generated_at"]),
        language=raw["language"],
        public=raw["public"],
        min_cell=raw["min_cell"],
        indicators=indicators,
        dimension_labels=raw["dimension_labels"],
    )

"""Donor reports built by hand as plain values, for the writers (charts, XLSX, CSV, IATI).

The numbers add up the way compute.py makes them: breakdown cells of a count sum to its actual,
small cells of a public report are suppressed (value None), and where that would hide a single
cell the next smallest is hidden too.
"""

import dataclasses
from datetime import date, datetime

from app.reports.data import Cell, IndicatorResult, PeriodTarget, ProgrammeInfo, Report

DIMENSION_LABELS = {
    "sex": "Sex",
    "age_band": "Age group",
    "municipality": "Municipality",
    "region": "Region",
    "institution_type": "Institution type",
    "target_group": "Target group",
}

QUARTERS = [
    PeriodTarget("2026 Q1", date(2026, 1, 1), date(2026, 3, 31), 100),
    PeriodTarget("2026 Q2", date(2026, 4, 1), date(2026, 6, 30), 120),
]


def programme_info(**changes) -> ProgrammeInfo:
    values = {
        "code": "DIG-KS-26",
        "name": "Aftësi digjitale për komunat — Digitalne veštine za opštine",
        "donor": "Balkan Digital Trust",
        "grant_code": "BDT-2026-014",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2027, 12, 31),
        "iati_identifier": "XK-ARBK-811234567-DIG-KS-26",
        "reporting_org_ref": "XK-ARBK-811234567",
        "reporting_org_name": "Qendra për Ndryshim Digjital",
    }
    return ProgrammeInfo(**{**values, **changes})


def _cell(key: str, label: str, value: float | None) -> Cell:
    return Cell(key=key, label=label, value=value, suppressed=value is None)


def trained_officials() -> IndicatorResult:
    """A count with every kind of breakdown and suppressed cells (threshold 5)."""
    return IndicatorResult(
        code="1.1",
        title="Municipal officials trained (attended at least 80% of sessions)",
        level="output",
        unit="count",
        measure="people_trained",
        measure_label="People trained",
        manual=False,
        baseline_value=0,
        baseline_year=2025,
        target=400,
        period_target=100,
        actual=87,
        percent_of_target=87.0,
        means_of_verification="Attendance registers; Akademia course records",
        evidence_url=None,
        breakdowns={
            # not disclosed (2) and not recorded (4) are both small: no second cell to hide
            "sex": [
                _cell("female", "Female", 46),
                _cell("male", "Male", 35),
                _cell("not_disclosed", "Not disclosed", None),
                _cell("unknown", "Not recorded", None),
            ],
            # 65+ (2) alone is small, so 15–24 (9), the next smallest, is hidden too
            "age_band": [
                _cell("15-24", "15–24", None),
                _cell("25-29", "25–29", 14),
                _cell("30-44", "30–44", 38),
                _cell("45-64", "45–64", 24),
                _cell("65+", "65+", None),
            ],
            "municipality": [
                _cell("prishtine", "Prishtinë/Priština", 21),
                _cell("mitrovice-jugut", "Mitrovicë e Jugut/Južna Mitrovica", 18),
                _cell("ferizaj", "Ferizaj/Uroševac", 16),
                _cell("gjakove", "Gjakovë/Đakovica", 12),
                _cell("gracanice", "Graçanicë/Gračanica", 7),
                _cell("shterpce", "Shtërpcë/Štrpce", 6),
                _cell("leposaviq", "Leposaviq/Leposavić", None),
                _cell("zvecan", "Zveçan/Zvečan", None),
            ],
            "region": [
                _cell("prishtina", "Prishtinë/Priština", 28),
                _cell("mitrovica", "Mitrovicë/Mitrovica", 25),
                _cell("ferizaj", "Ferizaj/Uroševac", 22),
                _cell("gjakova", "Gjakovë/Đakovica", 12),
            ],
        },
        targets=QUARTERS,
    )


def participations() -> IndicatorResult:
    return IndicatorResult(
        code="1.2",
        title="Participations in TalkDigital meetings with CSOs and media",
        level="output",
        unit="count",
        measure="participations",
        measure_label="Participations",
        manual=False,
        baseline_value=None,
        baseline_year=None,
        target=600,
        period_target=150,
        actual=164,
        percent_of_target=109.3,
        means_of_verification="Sign-in sheets",
        evidence_url=None,
        breakdowns={
            "target_group": [
                _cell("cso", "Civil-society organisations", 71),
                _cell("media", "Media", 52),
                _cell("public_institution", "Public institutions", 41),
            ]
        },
    )


def pass_rate() -> IndicatorResult:
    """A percentage: its cells are shares, and a share resting on few answers is suppressed."""
    return IndicatorResult(
        code="2.1",
        title="Learners reaching the pass mark on the post-test",
        level="outcome",
        unit="percent",
        measure="knowledge_pass_rate",
        measure_label="Post-test pass rate",
        manual=False,
        baseline_value=55.0,
        baseline_year=2025,
        target=80.0,
        period_target=75.0,
        actual=78.4,
        percent_of_target=104.5,
        means_of_verification="Pre- and post-tests in Akademia",
        evidence_url=None,
        breakdowns={
            "sex": [
                _cell("female", "Female", 81.0),
                _cell("male", "Male", 74.3),
                _cell("not_disclosed", "Not disclosed", None),
            ]
        },
    )


def improved_services() -> IndicatorResult:
    """Entered by hand, with its evidence."""
    return IndicatorResult(
        code="2.2",
        title="Municipal e-services improved after the training",
        level="outcome",
        unit="count",
        measure="manual",
        measure_label="Entered by hand",
        manual=True,
        baseline_value=3,
        baseline_year=2025,
        target=12,
        period_target=None,
        actual=4,
        percent_of_target=33.3,
        means_of_verification="Observatory review of municipal websites",
        evidence_url="https://observatory.example.org/2026/e-services-review.pdf",
    )


def applied_skills() -> IndicatorResult:
    """No value yet: the follow-up survey comes 3–6 months after the training."""
    return IndicatorResult(
        code="3.1",
        title="Trained officials applying the skills at work (follow-up survey)",
        level="impact",
        unit="percent",
        measure="application_rate",
        measure_label="Follow-up survey: applying the skills",
        manual=False,
        baseline_value=None,
        baseline_year=None,
        target=60.0,
        period_target=None,
        actual=None,
        percent_of_target=None,
        means_of_verification="Follow-up survey 3–6 months after the course",
        evidence_url=None,
    )


def report(**changes) -> Report:
    """The 2026 Q1 public report (threshold 5) in English."""
    values = {
        "programme": programme_info(),
        "period_label": "2026 Q1",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2026, 3, 31),
        "generated_at": datetime(2026, 4, 7, 9, 30),
        "language": "en",
        "public": True,
        "min_cell": 5,
        "indicators": [
            trained_officials(),
            participations(),
            pass_rate(),
            improved_services(),
            applied_skills(),
        ],
        "dimension_labels": dict(DIMENSION_LABELS),
    }
    return Report(**{**values, **changes})


def second_quarter() -> Report:
    """2026 Q2: more people trained; the follow-up survey has its first answers."""
    first = report()
    trained = dataclasses.replace(
        first.indicators[0],
        period_target=120,
        actual=131,
        percent_of_target=109.2,
        breakdowns={
            "sex": [
                _cell("female", "Female", 70),
                _cell("male", "Male", 55),
                _cell("not_disclosed", "Not disclosed", None),
                _cell("unknown", "Not recorded", None),
            ],
            "region": [
                _cell("prishtina", "Prishtinë/Priština", 45),
                _cell("mitrovica", "Mitrovicë/Mitrovica", 38),
                _cell("ferizaj", "Ferizaj/Uroševac", 30),
                _cell("gjakova", "Gjakovë/Đakovica", 18),
            ],
        },
    )
    applied = dataclasses.replace(first.indicators[4], actual=52.5)
    return dataclasses.replace(
        first,
        period_label="2026 Q2",
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 6, 30),
        generated_at=datetime(2026, 7, 6, 8, 0),
        indicators=[trained, *first.indicators[1:4], applied],
    )

"""The report built from the logframe: targets, manual values, suppression, snapshots."""

from datetime import date

import pytest

from app.errors import DomainError
from app.extensions import db
from app.reports import data, services
from app.reports.compute import compute_report
from app.reports.models import MANUAL, IndicatorLevel, IndicatorUnit
from tests.reports.dataset import NOW, Q1, build


def _indicator(world, code, measure, unit=IndicatorUnit.COUNT, **values):
    return services.save_indicator(
        programme=world.programme,
        code=code,
        title=values.pop("title", f"Indicator {code}"),
        level=values.pop("level", IndicatorLevel.OUTPUT),
        unit=unit,
        measure=measure,
        baseline_value=values.pop("baseline_value", None),
        baseline_year=values.pop("baseline_year", None),
        target=values.pop("target", None),
        means_of_verification="Registers",
    )


def _report(world, public=False, period=Q1, language="en"):
    db.session.commit()
    return compute_report(
        world.programme,
        starts_on=period[0],
        ends_on=period[1],
        public=public,
        now=NOW,
        language=language,
    )


def by_code(report):
    return {i.code: i for i in report.indicators}


@pytest.fixture
def world(app):
    return build()


def test_actual_target_and_percent_of_target(world):
    trained = _indicator(
        world, "1.1", "people_trained", target=20, baseline_value=0, baseline_year=2025
    )
    q1 = world.periods["2026 Q1"]
    services.set_targets(trained, {q1.id: 4})
    result = by_code(_report(world))["1.1"]
    assert (result.actual, result.period_target, result.target) == (3, 4, 20)
    assert result.percent_of_target == 75.0
    assert [(t.period, t.target) for t in result.targets] == [("2026 Q1", 4), ("2026 Q2", None)]
    assert [c.key for c in result.breakdowns["sex"]] == ["female", "undisclosed"]
    assert result.breakdowns["sex"][0].label == "Female"


def test_a_year_adds_up_period_targets_of_counts(world):
    trained = _indicator(world, "1.1", "people_trained")
    services.set_targets(trained, {world.periods["2026 Q1"].id: 4, world.periods["2026 Q2"].id: 6})
    year = _report(world, period=(date(2026, 1, 1), date(2026, 12, 31)))
    assert year.period_label == "2026-01-01 – 2026-12-31"
    assert by_code(year)["1.1"].period_target == 10
    assert by_code(year)["1.1"].actual == 4  # A, C, D in Q1 and E in Q2


def test_a_computed_indicator_takes_its_measures_unit(world):
    indicator = _indicator(world, "2.1", "knowledge_pass_share", unit=IndicatorUnit.COUNT)
    assert indicator.unit == IndicatorUnit.PERCENT


def test_manual_values_are_marked_and_carry_evidence(world):
    indicator = _indicator(world, "3.1", MANUAL, title="Policies adopted")
    with pytest.raises(DomainError, match="evidence"):
        services.enter_value(
            indicator=indicator,
            period=world.periods["2026 Q1"],
            value=2,
            evidence_url="minutes.pdf",
            note=None,
            by=None,
        )
    services.enter_value(
        indicator=indicator,
        period=world.periods["2026 Q1"],
        value=2,
        evidence_url="https://kk.rks-gov.net/prishtine/vendimet",
        note="Two council decisions",
        by=None,
    )
    result = by_code(_report(world))["3.1"]
    assert result.manual and result.actual == 2 and result.breakdowns == {}
    assert result.evidence_url == "https://kk.rks-gov.net/prishtine/vendimet"


def test_values_by_hand_only_for_manual_indicators(world):
    computed = _indicator(world, "1.1", "people_trained")
    with pytest.raises(DomainError, match="computed"):
        services.enter_value(
            indicator=computed,
            period=world.periods["2026 Q1"],
            value=9,
            evidence_url="https://x.org",
            note=None,
            by=None,
        )


def test_public_reports_suppress_small_cells_and_their_complement(world):
    _indicator(world, "1.1", "people_trained")
    world.programme.min_public_cell = 2
    result = by_code(_report(world, public=True))["1.1"]
    sex = {c.key: c for c in result.breakdowns["sex"]}
    # "undisclosed" (1 person) is too small; "female" (2) is hidden too, or 3 − 2 would show it.
    assert sex["undisclosed"].suppressed and sex["undisclosed"].value is None
    assert sex["female"].suppressed
    assert result.actual == 3
    private = by_code(_report(world))["1.1"]
    assert not any(c.suppressed for c in private.breakdowns["sex"])


def test_percentages_are_suppressed_by_the_answers_behind_them(world):
    _indicator(world, "2.1", "knowledge_pass_share")
    world.programme.min_public_cell = 3
    result = by_code(_report(world, public=True))["2.1"]
    assert [c.suppressed for c in result.breakdowns["sex"]] == [True]  # 2 women with both tests


def test_duplicate_codes_and_bad_numbers_are_refused(world):
    _indicator(world, "1.1", "people_trained")
    with pytest.raises(DomainError, match="code"):
        _indicator(world, "1.1", "participations")
    with pytest.raises(DomainError, match="100"):
        _indicator(world, "2.1", MANUAL, unit=IndicatorUnit.PERCENT, target=140)
    with pytest.raises(DomainError, match="measures"):
        _indicator(world, "2.2", "made_up")


def test_standard_indicators_cover_every_measure_once(world):
    added = services.add_standard_indicators(world.programme)
    assert len(added) == 18
    assert services.add_standard_indicators(world.programme) == []


def test_labels_follow_the_report_language(world):
    _indicator(world, "1.1", "people_trained")
    result = by_code(_report(world, language="sq"))["1.1"]
    assert result.breakdowns["sex"][0].label == "Femër"
    assert result.breakdowns["municipality"][0].label == "Prishtinë/Priština"


def test_a_frozen_report_comes_back_unchanged(world):
    _indicator(world, "1.1", "people_trained")
    report = _report(world, public=True)
    snapshot = services.freeze(
        programme=world.programme, report=report, title="Q1 to the donor", by=None
    )
    db.session.commit()
    assert data.from_json(snapshot.content) == report
    with pytest.raises(DomainError):
        services.freeze(programme=world.programme, report=report, title=" ", by=None)


def test_year_results_for_the_observatory(world):
    from app.reports.summary import year_results

    (programme,) = year_results(2026, NOW)
    values = {m["key"]: m["value"] for m in programme["measures"]}
    assert values["people_trained"] == 4 and values["training_hours"] == 24
    assert values["knowledge_mean_gain"] == pytest.approx(15)
    assert year_results(2024, NOW) == []

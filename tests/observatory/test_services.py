"""The Observatory's rules, called directly on the services."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.errors import Conflict, DomainError
from app.extensions import db
from app.observatory import services
from app.observatory.indicator_services import IndicatorValues, save_indicators
from app.observatory.models import (
    Bilingual,
    MilestoneAssessment,
    MunicipalIndicator,
    Status,
    Uptake,
)
from app.observatory.recommendation_services import (
    RecommendationFields,
    assess_uptake,
    save_recommendation,
)
from tests.conftest import municipality
from tests.observatory.helpers import (
    EVIDENCE,
    TODAY,
    assess,
    assessor,
    create_measure,
    create_milestone,
    create_strategy,
)


def _recommendation(year=2025, number=None, **values):
    fields = dict(
        year=year,
        number=number,
        text_en="Publish every municipal service in both official languages.",
        addressed_to="Ministry of Local Government Administration",
    )
    fields.update(values)
    return save_recommendation(None, values=RecommendationFields(**fields), today=TODAY)


# --- Strategies, measures, milestones --------------------------------------------------


def test_save_strategy_rejects_a_duplicate_code():
    create_strategy()
    with pytest.raises(Conflict, match="Another strategy has the code DA-2030"):
        create_strategy()


@pytest.mark.parametrize("first, last", [(2027, 2023), (2005, 2010), (None, 2027)])
def test_save_strategy_rejects_impossible_years(first, last):
    with pytest.raises(DomainError, match="years the strategy covers") as caught:
        create_strategy(starts_year=first, ends_year=last)
    assert caught.value.field == "starts_year"


def test_save_measure_keeps_codes_unique_within_a_strategy_only():
    first, second = create_strategy(), create_strategy(code="EGOV-2027")
    measure = create_measure(first, code="2.1")
    create_measure(second, code="2.1")  # another strategy may reuse the code
    with pytest.raises(Conflict, match="already has a measure 2.1"):
        create_measure(first, code="2.1")
    # Saving a measure again under its own code is not a clash with itself.
    values = services.MeasureFields(code="2.1", title_en="Renamed", responsible="AShI")
    assert services.save_measure(measure, strategy=first, values=values).title_en == "Renamed"


def test_save_measure_needs_a_responsible_institution():
    with pytest.raises(DomainError, match="responsible institution") as caught:
        create_measure(create_strategy(), responsible="  ")
    assert caught.value.field == "responsible"


def test_milestone_is_due_within_the_strategy_years():
    measure = create_measure(create_strategy(starts_year=2023, ends_year=2027))
    with pytest.raises(DomainError, match="2023–2027") as caught:
        create_milestone(measure, due_on=date(2029, 3, 1))
    assert caught.value.field == "due_on"
    milestone = create_milestone(measure, due_on=date(2027, 12, 31))
    assert milestone.responsible_institution == "Ministry of Internal Affairs"


def test_milestone_codes_are_unique_within_a_measure():
    measure = create_measure(create_strategy())
    create_milestone(measure, code="a")
    with pytest.raises(Conflict, match="already has a milestone a"):
        create_milestone(measure, code="a")


# --- Assessments -----------------------------------------------------------------------


def test_assessment_is_one_per_milestone_and_year_and_can_be_corrected():
    milestone = create_milestone(create_measure(create_strategy()))
    by = assessor()
    assess(milestone, 2025, Status.LIMITED, by)
    again = assess(milestone, 2025, Status.COMPLETE, by, note="Law adopted in December.")
    rows = db.session.scalars(sa.select(MilestoneAssessment)).all()
    assert rows == [again]
    assert again.status == Status.COMPLETE
    assert again.assessor_id == by.id
    assert again.evidence_links == [EVIDENCE]


@pytest.mark.parametrize("status", [Status.LIMITED, Status.SUBSTANTIAL, Status.COMPLETE])
def test_progress_needs_evidence(status):
    milestone = create_milestone(create_measure(create_strategy()))
    with pytest.raises(DomainError, match="at least one evidence link") as caught:
        assess(milestone, 2025, status, assessor(), evidence="")
    assert caught.value.field == "evidence"


def test_no_evidence_and_not_started_need_no_link():
    milestone = create_milestone(create_measure(create_strategy()))
    record = assess(milestone, 2025, Status.NOT_STARTED, assessor(), evidence="")
    assert record.evidence_links == []


def test_evidence_must_be_web_links_one_per_line():
    milestone = create_milestone(create_measure(create_strategy()))
    with pytest.raises(DomainError, match="“see the minutes” is not a web link"):
        assess(milestone, 2025, Status.LIMITED, assessor(), evidence=f"{EVIDENCE}\nsee the minutes")
    record = assess(
        milestone,
        2025,
        Status.LIMITED,
        assessor(),
        evidence=f"  {EVIDENCE}  \n\nhttps://kk.rks-gov.net/vendimi-12\n{EVIDENCE}",
    )
    assert record.evidence_links == [EVIDENCE, "https://kk.rks-gov.net/vendimi-12"]


@pytest.mark.parametrize(
    "year, message",
    [(2009, "between 2010 and 2026"), (2027, "between 2010 and 2026"), (2022, "starts in 2023")],
)
def test_assessment_year_out_of_range(year, message):
    milestone = create_milestone(create_measure(create_strategy(starts_year=2023)))
    with pytest.raises(DomainError, match=message) as caught:
        assess(milestone, year, Status.NOT_STARTED, assessor(), assessed_on=TODAY)
    assert caught.value.field == "year"


@pytest.mark.parametrize(
    "assessed_on, message",
    [
        (date(2026, 6, 16), "cannot be in the future"),
        (date(2024, 12, 31), "cannot be dated before that year"),
        (None, "Enter the date"),
    ],
)
def test_assessment_date_rules(assessed_on, message):
    milestone = create_milestone(create_measure(create_strategy()))
    with pytest.raises(DomainError, match=message):
        assess(milestone, 2025, Status.NOT_STARTED, assessor(), assessed_on=assessed_on)


def test_local_today_is_kosovo_time(monkeypatch):
    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            # 23:30 UTC on 31 December is already New Year's Day in Prishtina.
            return datetime(2025, 12, 31, 23, 30, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(services, "datetime", Clock)
    assert services.local_today() == date(2026, 1, 1)


# --- Municipal indicators --------------------------------------------------------------


def test_indicators_are_upserted_per_municipality_and_year():
    gjakove = municipality("gjakove")
    by = assessor()
    save_indicators(
        municipality=gjakove,
        year=2025,
        values=IndicatorValues(online_services=12, transparency_score=55),
        by=by,
        today=TODAY,
    )
    record = save_indicators(
        municipality=gjakove,
        year=2025,
        values=IndicatorValues(transparency_score=61, bilingual=Bilingual.PARTIAL),
        by=by,
        today=TODAY,
    )
    assert db.session.scalar(sa.select(sa.func.count(MunicipalIndicator.id))) == 1
    # The form sets every indicator: an empty one means not measured.
    assert (record.online_services, record.transparency_score) == (None, 61)
    assert record.bilingual == Bilingual.PARTIAL
    assert record.updated_by_id == by.id


@pytest.mark.parametrize(
    "values, field, message",
    [
        (IndicatorValues(transparency_score=101), "transparency_score", "from 0 to 100"),
        (IndicatorValues(transparency_score=-1), "transparency_score", "from 0 to 100"),
        (IndicatorValues(service_maturity=5), "service_maturity", "from 0 to 4"),
        (IndicatorValues(online_services=-3), "online_services", "cannot be negative"),
        (IndicatorValues(open_datasets=-1), "open_datasets", "cannot be negative"),
        (IndicatorValues(), "online_services", "at least one indicator"),
    ],
)
def test_indicator_values_out_of_range(values, field, message):
    with pytest.raises(DomainError, match=message) as caught:
        save_indicators(municipality=municipality(), year=2025, values=values, by=None, today=TODAY)
    assert caught.value.field == field


def test_indicators_for_a_future_year_are_refused():
    with pytest.raises(DomainError, match="between 2010 and 2026"):
        save_indicators(
            municipality=municipality(),
            year=2027,
            values=IndicatorValues(open_datasets=3),
            by=None,
            today=TODAY,
        )


# --- Recommendations and uptake --------------------------------------------------------


def test_recommendations_are_numbered_per_year():
    assert _recommendation(2025).number == 1
    assert _recommendation(2025).number == 2
    assert _recommendation(2024).number == 1
    assert _recommendation(2025, number=7).label == "2025/7"
    assert _recommendation(2025).number == 8


def test_recommendation_number_is_unique_within_a_year():
    _recommendation(2025, number=3)
    with pytest.raises(Conflict, match="Recommendation 3 of 2025 already exists") as caught:
        _recommendation(2025, number=3)
    assert caught.value.field == "number"


@pytest.mark.parametrize(
    "values, message",
    [
        ({"number": 0}, "numbered from 1"),
        ({"year": 2027}, "between 2010 and 2026"),
        ({"text_en": " "}, "recommendation in English"),
        ({"addressed_to": ""}, "institutions it is addressed to"),
    ],
)
def test_recommendation_rules(values, message):
    with pytest.raises(DomainError, match=message):
        _recommendation(**values)


def test_uptake_is_assessed_in_a_later_year():
    recommendation = _recommendation(2025)
    by = assessor()
    with pytest.raises(DomainError, match="later year than the recommendation: 2026 or after"):
        assess_uptake(
            recommendation=recommendation,
            year=2025,
            uptake=Uptake.PARTIAL,
            note=None,
            assessor=by,
            assessed_on=date(2025, 12, 1),
            today=TODAY,
        )
    record = assess_uptake(
        recommendation=recommendation,
        year=2026,
        uptake=Uptake.PARTIAL,
        note="Half the municipalities did.",
        assessor=by,
        assessed_on=date(2026, 3, 1),
        today=TODAY,
    )
    again = assess_uptake(
        recommendation=recommendation,
        year=2026,
        uptake="full",
        note=None,
        assessor=by,
        assessed_on=date(2026, 5, 1),
        today=TODAY,
    )
    assert again.id == record.id and again.uptake == Uptake.FULL


def test_a_recommendation_cannot_move_past_its_uptake():
    recommendation = _recommendation(2024)
    assess_uptake(
        recommendation=recommendation,
        year=2025,
        uptake=Uptake.NONE,
        note=None,
        assessor=assessor(),
        assessed_on=date(2025, 6, 1),
        today=TODAY,
    )
    values = RecommendationFields(
        year=2025, number=1, text_en="Moved.", addressed_to="Government of Kosovo"
    )
    with pytest.raises(DomainError, match="cannot move to 2025"):
        save_recommendation(recommendation, values=values, today=TODAY)

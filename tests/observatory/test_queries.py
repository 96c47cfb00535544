"""The Observatory's reads, against figures worked out by hand."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.observatory import progress, queries
from app.observatory.indicator_services import IndicatorValues, save_indicators
from app.observatory.models import Bilingual, Status, Uptake
from app.observatory.recommendation_services import (
    RecommendationFields,
    assess_uptake,
    save_recommendation,
)
from app.observatory.scorecards import indicator_summary, region_averages, scorecards
from app.places.models import Municipality
from tests.conftest import municipality
from tests.observatory.helpers import (
    TODAY,
    assess,
    assessor,
    commit,
    create_measure,
    create_milestone,
    create_strategy,
)
from tests.query_counter import count_queries

S = Status


@pytest.fixture
def agenda():
    """Two strategies. Measure 1.1 has four milestones, 1.10 three, E.1 none:

    1.1   2025: a complete, b substantial, c limited, d not assessed
          2024: a substantial, b limited, c not started, d no evidence; 2023: a limited
    1.10  2025: x complete, y complete, z no evidence;  2024: x complete
    """
    by = assessor()
    agenda = create_strategy()
    egov = create_strategy(code="EGOV-2027", title_en="e-Government Strategy 2023–2027")
    first = create_measure(agenda, code="1.1", title_sq="Shërbime të digjitalizuara")
    tenth = create_measure(agenda, code="1.10")
    create_measure(egov, code="E.1")
    a, b, c, d = (create_milestone(first, code=code) for code in "abcd")
    x, y, z = (create_milestone(tenth, code=code) for code in "xyz")
    for milestone, status in [(a, S.COMPLETE), (b, S.SUBSTANTIAL), (c, S.LIMITED)]:
        assess(milestone, 2025, status, by)
    for milestone, status in [
        (a, S.SUBSTANTIAL),
        (b, S.LIMITED),
        (c, S.NOT_STARTED),
        (d, S.NO_EVIDENCE),
    ]:
        assess(milestone, 2024, status, by)
    assess(a, 2023, S.LIMITED, by)
    for milestone, status in [(x, S.COMPLETE), (y, S.COMPLETE), (z, S.NO_EVIDENCE)]:
        assess(milestone, 2025, status, by)
    assess(x, 2024, S.COMPLETE, by)
    commit()
    return agenda, egov


def test_measure_progress_counts_and_rates_by_hand(agenda):
    first, tenth, empty = progress.measure_progress(2025)
    # Natural order: 1.1 before 1.10, then the other strategy's E.1.
    assert [m.code for m in (first, tenth, empty)] == ["1.1", "1.10", "E.1"]
    assert first.milestones == 4
    assert first.counts == {
        S.NO_EVIDENCE: 0,
        S.NOT_STARTED: 0,
        S.LIMITED: 1,
        S.SUBSTANTIAL: 1,
        S.COMPLETE: 1,
    }
    assert (first.assessed, first.not_assessed) == (3, 1)
    assert (first.complete_rate, first.advanced_rate) == (25.0, 50.0)
    assert (first.previous_complete_rate, first.previous_advanced_rate) == (0.0, 25.0)
    assert (first.complete_change, first.advanced_change) == (25.0, 25.0)
    assert (tenth.complete_rate, tenth.previous_complete_rate) == (66.7, 33.3)
    # From the counts: one milestone of three more is +33.3 points, not 66.7 − 33.3 = 33.4.
    assert tenth.complete_change == 33.3
    assert empty.milestones == 0
    assert (empty.complete_rate, empty.previous_complete_rate, empty.complete_change) == (
        None,
        None,
        None,
    )


def test_a_year_without_assessments_has_no_rate_to_compare(agenda):
    [first, tenth] = progress.measure_progress(2024, strategy_id=agenda[0].id)
    assert (first.complete_rate, first.advanced_rate) == (0.0, 25.0)
    # 2023: only milestone a of 1.1 was assessed; 1.10 was not assessed at all.
    assert first.previous_advanced_rate == 0.0
    assert tenth.previous_complete_rate is None
    assert tenth.complete_change is None


def test_totals_add_the_measures_up(agenda):
    total = progress.Shares.total(progress.measure_progress(2025))
    # 7 milestones; complete a, x, y; substantial b. 2024: complete x; substantial a.
    assert total.milestones == 7
    assert (total.complete_rate, total.advanced_rate) == (42.9, 57.1)
    assert (total.previous_complete_rate, total.previous_advanced_rate) == (14.3, 28.6)
    assert (total.complete_change, total.advanced_change) == (28.6, 28.6)


def _open_transaction():
    """Begin the transaction first: on SQLite its BEGIN would count as a statement."""
    db.session.execute(sa.select(1))


def test_measure_progress_is_one_query_whatever_the_size(agenda):
    _open_transaction()
    with count_queries() as counter:
        progress.measure_progress(2025)
    assert counter.count == 1


def test_completion_by_year(agenda):
    rows = progress.completion_by_year()
    assert [(r.year, r.assessed, r.complete, r.advanced) for r in rows] == [
        (2023, 1, 0, 0),
        (2024, 5, 1, 2),
        (2025, 6, 3, 4),
    ]
    assert progress.milestone_total() == 7
    assert progress.milestone_total(strategy_id=agenda[1].id) == 0


def test_milestone_rows_carry_this_year_and_last(agenda):
    rows = progress.milestone_rows(2025, locale="sq")
    assert [r.code for r in rows] == ["a", "b", "c", "d", "x", "y", "z"]
    a, _b, _c, d = rows[:4]
    assert (a.status, a.previous_status) == (S.COMPLETE, S.SUBSTANTIAL)
    assert a.assessor == "Shpresë Gashi-Đorđević"
    assert a.assessed_on == date(2026, 1, 20)
    assert (d.status, d.previous_status) == (None, S.NO_EVIDENCE)
    # Due at the end of 2025 and not complete by then.
    assert d.overdue and not a.overdue
    assert d.responsible == "Ministry of Internal Affairs"


def test_titles_follow_the_language_with_english_standing_in(agenda):
    by_locale = {
        locale: [m.title for m in progress.measure_progress(2025, locale=locale)][:2]
        for locale in ("en", "sq", "sr_Latn")
    }
    assert by_locale["en"] == ["Measure 1.1", "Measure 1.10"]
    assert by_locale["sq"] == ["Shërbime të digjitalizuara", "Masa 1.10"]
    assert by_locale["sr_Latn"] == ["Mera 1.1", "Mera 1.10"]


def test_strategy_rows_count_measures_and_milestones(agenda):
    rows = {r.code: r for r in queries.strategy_rows("sq")}
    assert (rows["DA-2030"].measures, rows["DA-2030"].milestones) == (2, 7)
    assert (rows["EGOV-2027"].measures, rows["EGOV-2027"].milestones) == (1, 0)
    assert rows["DA-2030"].title == "Agjenda Digjitale e Kosovës 2030"


# --- Municipal scorecards --------------------------------------------------------------


@pytest.fixture
def indicators():
    def save(code, year, **values):
        save_indicators(
            municipality=municipality(code),
            year=year,
            values=IndicatorValues(**values),
            by=None,
            today=TODAY,
        )

    save(
        "gjakove",
        2025,
        online_services=14,
        service_maturity=3,
        transparency_score=62,
        bilingual=Bilingual.PARTIAL,
        open_datasets=5,
    )
    save(
        "prishtine",
        2025,
        online_services=30,
        service_maturity=4,
        transparency_score=80,
        bilingual=Bilingual.FULL,
        open_datasets=12,
    )
    save("mamushe", 2025, bilingual=Bilingual.NO, open_datasets=0)
    save("gjakove", 2024, transparency_score=55)
    commit()


def test_scorecards_list_all_38_municipalities(indicators):
    _open_transaction()
    with count_queries() as counter:
        cards = scorecards(2025, locale="en")
    assert counter.count == 1
    assert len(cards) == 38
    codes = set(db.session.scalars(sa.select(Municipality.code)))
    assert len(codes) == 38 and {c.code for c in cards} == codes
    by_code = {c.code: c for c in cards}
    gjakove = by_code["gjakove"]
    assert gjakove.name == "Gjakovë/Đakovica" and gjakove.region == "Gjakova"
    assert (gjakove.transparency_score, gjakove.previous_transparency_score) == (62, 55)
    assert gjakove.transparency_change == 7
    assert by_code["prishtine"].transparency_change is None  # nothing for 2024
    assert by_code["mamushe"].has_data and by_code["mamushe"].transparency_score is None
    assert not by_code["zubin-potok"].has_data
    regions = [c.region for c in cards]
    assert regions == sorted(regions)  # grouped by region


def test_scorecard_regions_follow_the_language(indicators):
    sq = {c.code: c.region for c in scorecards(2025, locale="sq")}
    sr = {c.code: c.region for c in scorecards(2025, locale="sr_Latn")}
    assert (sq["gjakove"], sr["gjakove"]) == ("Gjakovë", "Đakovica")


def test_indicator_summary_by_hand(indicators):
    summary = indicator_summary([2025, 2024, 2023])
    this = summary[2025]
    assert this.municipalities == 3
    assert this.online_services == 44
    assert this.maturity_average == 3.5
    assert (this.transparency_average, this.transparency_measured) == (71.0, 2)
    assert (this.bilingual_full, this.bilingual_partial, this.bilingual_no) == (1, 1, 1)
    assert this.open_datasets == 17
    assert (summary[2024].municipalities, summary[2024].transparency_average) == (1, 55.0)
    # Nobody counted online services in 2024: unknown, not zero.
    assert summary[2024].online_services is None and summary[2024].open_datasets is None
    assert summary[2023].municipalities == 0 and summary[2023].transparency_average is None


def test_region_averages(indicators):
    regions = {r.code: r for r in region_averages(2025, locale="en")}
    assert len(regions) == 7
    assert (regions["gjakova"].transparency_average, regions["gjakova"].online_services) == (
        62.0,
        14,
    )
    assert regions["prishtina"].transparency_average == 80.0
    assert regions["prizren"].transparency_average is None  # Mamushë gave no score
    assert regions["peja"].online_services is None


# --- Recommendations and years ---------------------------------------------------------


def test_recommendation_rows_with_uptake_of_the_following_year():
    by = assessor()
    for text in ("Open the municipal budgets as data.", "Publish services in both languages."):
        save_recommendation(
            None,
            values=RecommendationFields(year=2025, text_en=text, addressed_to="MLGA"),
            today=TODAY,
        )
    first = queries.recommendation_rows(2025, uptake_year=2026)[0]
    assess_uptake(
        recommendation=queries.load_recommendation(first.id),
        year=2026,
        uptake=Uptake.PARTIAL,
        note="Eleven municipalities did.",
        assessor=by,
        assessed_on=date(2026, 3, 1),
        today=TODAY,
    )
    commit()
    rows = queries.recommendation_rows(2025, uptake_year=2026)
    assert [(r.number, r.uptake, r.uptake_note) for r in rows] == [
        (1, Uptake.PARTIAL, "Eleven municipalities did."),
        (2, None, None),
    ]
    assert queries.recommendation_rows(2025, uptake_year=2027)[0].uptake is None
    assert queries.years_with_data() == [2025]
    assert queries.latest_year(TODAY) == 2025


def test_latest_year_without_data_is_this_year():
    assert queries.years_with_data() == []
    assert queries.latest_year(TODAY) == 2026


def test_natural_key_orders_codes_as_documents_do():
    codes = ["1.10", "1.2", "2", "1.1", "A.3", "1.1.a"]
    assert sorted(codes, key=queries.natural_key) == ["1.1", "1.1.a", "1.2", "1.10", "2", "A.3"]

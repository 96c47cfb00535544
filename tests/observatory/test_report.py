"""The annual report: its plain-values context, the PDF read back in three languages, the page."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from app import pdf
from app.auth.roles import Role
from app.extensions import db
from app.observatory.indicator_services import IndicatorValues, save_indicators
from app.observatory.models import Bilingual, Status, Uptake
from app.observatory.recommendation_services import (
    RecommendationFields,
    assess_uptake,
    save_recommendation,
)
from app.observatory.report import report_context, report_pdf
from app.reports.aggregate import TOTAL, compute
from app.reports.measures import MEASURES
from app.reports.scope import Scope
from tests.conftest import create_user, login, municipality
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
from tests.reports.dataset import NOW as TRAINING_NOW
from tests.reports.dataset import build as build_training_world


@pytest.fixture
def observatory():
    """One measure with two milestones (2025: complete + limited; 2024: substantial only),
    indicators for Gjakovë, a recommendation of 2024 partly taken up and one of 2025."""
    by = assessor()
    measure = create_measure(
        create_strategy(),
        code="2.3",
        title_en="Municipal e-services",
        title_sq="Shërbimet elektronike komunale",
        title_sr="Opštinske elektronske usluge",
        responsible="Ministria e Administrimit të Pushtetit Lokal",
    )
    first = create_milestone(measure, code="a", title_en="Çair–Štrpce register online")
    second = create_milestone(measure, code="b", title_en="Forms in both languages")
    assess(first, 2025, Status.COMPLETE, by)
    assess(second, 2025, Status.LIMITED, by)
    assess(first, 2024, Status.SUBSTANTIAL, by)
    save_indicators(
        municipality=municipality("gjakove"),
        year=2025,
        values=IndicatorValues(online_services=14, transparency_score=62, bilingual=Bilingual.FULL),
        by=by,
        today=TODAY,
    )
    old = save_recommendation(
        None,
        values=RecommendationFields(
            year=2024, text_en="Open the budgets.", addressed_to="Komuna e Zveçanit"
        ),
        today=TODAY,
    )
    assess_uptake(
        recommendation=old,
        year=2025,
        uptake=Uptake.PARTIAL,
        note="Dy nga tri komuna.",
        assessor=by,
        assessed_on=date(2025, 10, 1),
        today=TODAY,
    )
    save_recommendation(
        None,
        values=RecommendationFields(
            year=2025,
            text_en="Publish every service in Albanian and Serbian.",
            text_sr="Objavite svaku uslugu na albanskom i srpskom.",
            addressed_to="Opština Leposavić",
        ),
        today=TODAY,
    )
    commit()


def text_of(data: bytes) -> str:
    """The PDF's text in single spaces; a name wrapped after its slash ("Graçanicë/
    Gračanica" in a narrow column) is joined again."""
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split()).replace("/ ", "/")


def test_context_holds_plain_values_and_the_figures(app, observatory):
    with app.test_request_context():
        context = report_context(year=2025, locale="en")
    pdf.check_plain(context)  # raises on anything but plain values
    assert context["training_results"] == []  # no training programme ran in 2025
    totals = context["totals"]
    # 2 milestones: 2025 one complete (50 %), one more limited; 2024 one substantial.
    assert (totals["complete_rate"], totals["previous_complete_rate"]) == (50.0, 0.0)
    assert (totals["advanced_rate"], totals["previous_advanced_rate"]) == (50.0, 50.0)
    assert (totals["complete_change"], totals["advanced_change"]) == (50.0, 0.0)
    [strategy] = context["strategies"]
    [measure] = strategy["measures"]
    assert [row["status_label"] for row in measure["rows"]] == ["Complete", "Limited"]
    assert [row["previous_label"] for row in measure["rows"]] == ["Substantial", "Not assessed"]
    assert sum(len(r["municipalities"]) for r in context["regions"]) == 38
    assert context["indicators"]["municipalities"] == 1
    assert [r["label"] for r in context["recommendations"]] == ["2025/1"]
    assert [(r["label"], r["uptake_label"]) for r in context["followed_up"]] == [
        ("2024/1", "Partly taken up")
    ]
    assert str(context["trend_chart"]).startswith("<svg")


def test_context_of_a_year_without_data(app):
    with app.test_request_context():
        context = report_context(year=2020, locale="sq")
    pdf.check_plain(context)
    assert context["strategies"] == [] and context["totals"]["complete_rate"] is None
    assert context["uptake_chart"] == ""


# The cover has no page number: the contents are page 2.
@pytest.mark.parametrize(
    "locale, expected",
    [
        ("en", ["Page 2 of", "Municipality", "Municipal e-services", "Publish every service"]),
        ("sq", ["Faqja 2 nga", "Komuna", "Shërbimet elektronike komunale", "Publish every"]),
        ("sr_Latn", ["Stranica 2 od", "Opština", "Opštinske elektronske usluge", "Objavite"]),
    ],
)
def test_the_pdf_in_three_languages(app, observatory, locale, expected):
    with app.test_request_context():
        data = report_pdf(year=2025, locale=locale)
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title.endswith("2025")
    text = text_of(data)
    for piece in expected:
        assert piece in text, piece
    # Names with every letter the fonts must carry: ë ç č ć š ž đ.
    for name in [
        "Gjakovë/Đakovica",
        "Graçanicë/Gračanica",
        "Leposaviq/Leposavić",
        "Shtime/Štimlje",
        "Zveçan/Zvečan",
        "Çair–Štrpce register online",
        "Shpresë Gashi-Đorđević",
        "Ministria e Administrimit të Pushtetit Lokal",
    ]:
        assert name in text, name


def test_the_training_programmes_results_sit_before_the_recommendations(app, observatory):
    world = build_training_world()
    scope = Scope(world.programme.id, date(2026, 1, 1), date(2026, 12, 31), 80, TRAINING_NOW)
    trained = compute(MEASURES["people_trained"], scope)[TOTAL].value
    hours = compute(MEASURES["training_hours"], scope)[TOTAL].value
    assert trained and hours  # the world has results to show
    with app.test_request_context():
        context = report_context(year=2026, locale="en", now=TRAINING_NOW)
        [programme] = context["training_results"]
        values = {m["key"]: m["value"] for m in programme["measures"]}
        assert (values["people_trained"], values["training_hours"]) == (trained, hours)
        text = text_of(report_pdf(year=2026, locale="en", now=TRAINING_NOW))
    section = text.index("Results of the training programmes that ran in 2026")
    assert text.index("Municipal scorecards", text.index("Key figures", 500)) < section
    assert section < text.rindex("Recommendations")
    assert f"People trained (counted once) {trained:g}" in text
    assert world.programme.name in text


def test_the_report_page_and_download(client, observatory):
    login(client, create_user(Role.MANAGER))
    page = client.get("/observatory/report?year=2025&lang=sr_Latn")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'lang="sr-Latn"' in text
    assert "Opštinske elektronske usluge" in text and "<svg" in text
    assert "<script" not in text.split("</head>")[1]  # charts are drawn on the server
    download = client.get("/observatory/report.pdf?year=2025&lang=sq")
    assert download.mimetype == "application/pdf"
    assert 'filename="observatory-2025-sq.pdf"' in download.headers["Content-Disposition"]
    assert "Faqja 2 nga" in text_of(download.data)


def test_the_report_reads_the_same_number_of_queries_whatever_the_size(app):
    by = assessor()
    strategy = create_strategy()

    def add_measures(codes):
        for code in codes:
            measure = create_measure(strategy, code=code)
            for letter in "abc":
                assess(create_milestone(measure, code=letter), 2025, Status.NOT_STARTED, by)
        commit()

    def count() -> int:
        db.session.commit()  # expires everything and ends the transaction
        with app.test_request_context(), count_queries() as counter:
            report_context(year=2025, locale="en")
        return counter.count

    add_measures(["1.1"])
    few = count()
    add_measures(["1.2", "1.3", "2.1", "2.2"])
    assert count() == few

"""Observatory pages: who may open them, what a form saves, what the user is told."""

import io
import re

import pytest
import sqlalchemy as sa

from app.auth.roles import Role
from app.extensions import db
from app.observatory.models import (
    Measure,
    Milestone,
    MilestoneAssessment,
    MunicipalIndicator,
    Recommendation,
    RecommendationUptake,
    Status,
    Strategy,
)
from tests.conftest import create_user, login, municipality
from tests.observatory.helpers import (
    EVIDENCE,
    assess,
    assessor,
    commit,
    create_measure,
    create_milestone,
    create_strategy,
)

YEAR = 2025  # a year the Observatory can hold data for whatever today's date


@pytest.fixture
def milestone():
    milestone = create_milestone(create_measure(create_strategy()))
    commit()
    return milestone


@pytest.fixture
def manager(client):
    user = create_user(Role.MANAGER)
    login(client, user)
    return user


def urls(milestone) -> list[tuple[str, str]]:
    measure, strategy = milestone.measure, milestone.measure.strategy
    gjakove = municipality("gjakove")
    return [
        ("get", "/observatory/"),
        ("post", "/observatory/strategies/new"),
        ("get", f"/observatory/strategies/{strategy.id}"),
        ("post", f"/observatory/strategies/{strategy.id}/edit"),
        ("post", f"/observatory/strategies/{strategy.id}/measures/new"),
        ("get", f"/observatory/measures/{measure.id}"),
        ("post", f"/observatory/measures/{measure.id}/edit"),
        ("post", f"/observatory/measures/{measure.id}/milestones/new"),
        ("post", f"/observatory/milestones/{milestone.id}/edit"),
        ("post", f"/observatory/milestones/{milestone.id}/assess?year={YEAR}"),
        ("get", "/observatory/municipalities"),
        ("post", f"/observatory/municipalities/{gjakove.id}/indicators?year={YEAR}"),
        ("post", "/observatory/indicators/import"),
        ("post", "/observatory/indicators/import/confirm"),
        ("get", "/observatory/indicators/template.csv"),
        ("get", "/observatory/recommendations"),
        ("post", "/observatory/recommendations/new"),
        ("get", f"/observatory/report?year={YEAR}"),
        ("get", f"/observatory/report.pdf?year={YEAR}"),
    ]


@pytest.mark.parametrize("role", [Role.LEARNER, Role.TRAINER])
def test_learners_and_trainers_may_not_open_the_observatory(client, milestone, role):
    login(client, create_user(role))
    for method, url in urls(milestone):
        assert getattr(client, method)(url, data={"code": "X"}).status_code == 403, url
    assert db.session.scalar(sa.select(sa.func.count(Strategy.id))) == 1


def test_anonymous_visitors_are_sent_to_sign_in(client, milestone):
    for method, url in urls(milestone):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "/auth/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_administrators_open_every_page(client, milestone, role):
    login(client, create_user(role))
    for method, url in urls(milestone):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_the_menu_shows_the_observatory_to_managers_only(client):
    learner = create_user(Role.LEARNER)
    login(client, learner)
    assert 'href="/observatory/"' not in client.get("/").get_data(as_text=True)
    client.post("/auth/sign-out")
    login(client, create_user(Role.MANAGER))
    assert 'href="/observatory/"' in client.get("/").get_data(as_text=True)


def test_a_manager_builds_a_strategy_measure_and_milestone(client, manager):
    response = client.post(
        "/observatory/strategies/new",
        data={
            "code": "EGOV-2027",
            "title_en": "e-Government Strategy 2023–2027",
            "title_sq": "Strategjia e Qeverisjes Elektronike 2023–2027",
            "title_sr": "",
            "starts_year": "2023",
            "ends_year": "2027",
        },
        follow_redirects=True,
    )
    assert "The strategy is saved." in response.get_data(as_text=True)
    strategy = db.session.scalar(sa.select(Strategy))
    response = client.post(
        f"/observatory/strategies/{strategy.id}/measures/new",
        data={"code": "3.2", "title_en": "One-stop shop", "responsible": "AShI"},
    )
    measure = db.session.scalar(sa.select(Measure))
    assert response.headers["Location"].endswith(f"/observatory/measures/{measure.id}")
    response = client.post(
        f"/observatory/measures/{measure.id}/milestones/new",
        data={"code": "3.2.1", "title_en": "Portal live", "due_on": "2026-06-30"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "The milestone is saved." in page and "Portal live" in page
    assert db.session.scalar(sa.select(Milestone)).responsible is None


def test_a_broken_rule_is_shown_beside_the_field_and_the_input_kept(client, manager, milestone):
    response = client.post(
        f"/observatory/measures/{milestone.measure_id}/milestones/new",
        data={"code": "late", "title_en": "Too late", "due_on": "2035-01-01"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "within the strategy&#39;s years, 2023–2030" in page
    assert 'value="Too late"' in page
    assert db.session.scalar(sa.select(sa.func.count(Milestone.id))) == 1


def test_assessing_a_milestone(client, manager, milestone):
    url = f"/observatory/milestones/{milestone.id}/assess?year={YEAR}"
    form = {"status": "complete", "evidence": "", "note": "", "assessed_on": "2026-01-15"}
    page = client.post(url, data=form).get_data(as_text=True)
    assert "Add at least one evidence link" in page
    assert db.session.scalar(sa.select(MilestoneAssessment)) is None
    response = client.post(url, data={**form, "evidence": EVIDENCE}, follow_redirects=True)
    assert f"The assessment for {YEAR} is saved." in response.get_data(as_text=True)
    assessment = db.session.scalar(sa.select(MilestoneAssessment))
    assert (assessment.year, assessment.status, assessment.assessor_id) == (
        YEAR,
        Status.COMPLETE,
        manager.id,
    )
    # The form opens with what was saved, for correction.
    assert EVIDENCE in client.get(url).get_data(as_text=True)


def test_a_year_outside_the_observatory_is_not_found(client, manager, milestone):
    assert client.get(f"/observatory/milestones/{milestone.id}/assess?year=1999").status_code == 404
    assert client.get("/observatory/report?year=2999").status_code == 404
    assert client.get("/observatory/report?lang=sr").status_code == 404  # Cyrillic: not offered


def test_the_measure_page_shows_the_states_of_its_milestones(client, manager, milestone):
    assess(milestone, YEAR, Status.SUBSTANTIAL, assessor())
    commit()
    page = client.get(f"/observatory/measures/{milestone.measure_id}?year={YEAR}")
    text = page.get_data(as_text=True)
    assert "Substantial" in text and "Shpresë Gashi-Đorđević" in text
    assert "Overdue" in text  # due at the end of 2025, not complete


def test_indicators_page_and_form(client, manager):
    page = client.get(f"/observatory/municipalities?year={YEAR}").get_data(as_text=True)
    assert page.count("/indicators?year=") == 38
    gjakove = municipality("gjakove")
    url = f"/observatory/municipalities/{gjakove.id}/indicators?year={YEAR}"
    bad = client.post(url, data={"transparency_score": "140"}).get_data(as_text=True)
    assert "The transparency score goes from 0 to 100." in bad
    response = client.post(
        url,
        data={
            "online_services": "14",
            "service_maturity": "3",
            "transparency_score": "62",
            "bilingual": "partial",
            "open_datasets": "",
        },
        follow_redirects=True,
    )
    assert "The indicators of Gjakovë/Đakovica for 2025 are saved." in response.get_data(
        as_text=True
    )
    record = db.session.scalar(sa.select(MunicipalIndicator))
    assert (record.service_maturity, record.open_datasets, record.updated_by_id) == (
        3,
        None,
        manager.id,
    )


def _upload(client, text: str):
    return client.post(
        "/observatory/indicators/import",
        data={"file": (io.BytesIO(text.encode("utf-8-sig")), "indicators.csv")},
        content_type="multipart/form-data",
    )


def _token(page: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)


def test_import_preview_then_confirm(client, manager):
    page = _upload(client, "municipality;year;transparency_score\nGjakovë;2025;62\nPejë;2025;58")
    text = page.get_data(as_text=True)
    assert "Check the municipal indicators" in text and "Gjakovë/Đakovica" in text
    assert db.session.scalar(sa.select(MunicipalIndicator)) is None
    token = _token(text)
    response = client.post(
        "/observatory/indicators/import/confirm", data={"token": token}, follow_redirects=True
    )
    assert "The indicators are imported: 2 new, 0 updated, 0 unchanged." in response.get_data(
        as_text=True
    )
    assert db.session.scalar(sa.select(sa.func.count(MunicipalIndicator.id))) == 2
    # The token is used up.
    again = client.post("/observatory/indicators/import/confirm", data={"token": token})
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(MunicipalIndicator.id))) == 2


def test_import_with_errors_offers_no_confirmation(client, manager):
    page = _upload(client, "municipality,year,open_datasets\nGjakovë,2025,4\nAtlantis,2025,1")
    text = page.get_data(as_text=True)
    assert "Unknown municipality “Atlantis”." in text
    assert "1 row has errors. Nothing will be saved" in text
    assert 'name="token"' not in text


def test_import_cancel_and_a_token_from_elsewhere(client, manager, app):
    text = _upload(client, "municipality,year,open_datasets\nGjakovë,2025,4").get_data(as_text=True)
    response = client.post(
        "/observatory/indicators/import/confirm",
        data={"token": _token(text), "cancel": "1"},
        follow_redirects=True,
    )
    assert "The import is cancelled; nothing was saved." in response.get_data(as_text=True)
    text = _upload(client, "municipality,year,open_datasets\nGjakovë,2025,4").get_data(as_text=True)
    other = app.test_client()
    login(other, create_user(Role.MANAGER))
    response = other.post(
        "/observatory/indicators/import/confirm",
        data={"token": _token(text)},
        follow_redirects=True,
    )
    assert "That upload has expired or was already used." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(MunicipalIndicator)) is None


def test_an_unreadable_upload_is_explained(client, manager):
    response = client.post(
        "/observatory/indicators/import",
        data={"file": (io.BytesIO(b"\xd0\xcf\x11\xe0" + b"\0" * 64), "indicators.xls")},
        content_type="multipart/form-data",
    )
    assert "old Excel file (.xls)" in response.get_data(as_text=True)


def test_recommendations_and_their_uptake(client, manager):
    form = {"year": "2024", "number": "", "text_en": "Open the budgets.", "addressed_to": "MLGA"}
    response = client.post("/observatory/recommendations/new", data=form, follow_redirects=True)
    assert "Recommendation 2024/1 is saved." in response.get_data(as_text=True)
    duplicate = client.post("/observatory/recommendations/new", data={**form, "number": "1"})
    assert "Recommendation 1 of 2024 already exists" in duplicate.get_data(as_text=True)
    recommendation = db.session.scalar(sa.select(Recommendation))
    url = f"/observatory/recommendations/{recommendation.id}/uptake"
    same_year = client.post(
        f"{url}?year=2024", data={"uptake": "full", "note": "", "assessed_on": "2024-12-01"}
    )
    assert "later year than the recommendation: 2025 or after" in same_year.get_data(as_text=True)
    response = client.post(
        f"{url}?year=2025",
        data={"uptake": "partial", "note": "Four of seven", "assessed_on": "2025-11-30"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "The uptake of recommendation 2024/1 is saved." in page
    assert "Partly taken up" in page
    assert db.session.scalar(sa.select(RecommendationUptake)).year == 2025


def test_template_download(client, manager):
    response = client.get("/observatory/indicators/template.csv?year=2024")
    assert response.mimetype == "text/csv"
    assert 'filename="indicators-2024.csv"' in response.headers["Content-Disposition"]
    assert response.data.decode("utf-8-sig").count(";2024;") == 38


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"online_services": "9223372036854775808"}, "Enter a number no larger than 1000000."),
        ({"open_datasets": "2147483648"}, "Enter a number no larger than 1000000."),
        ({"bilingual": " ", "online_services": "3"}, "are saved"),
    ],
)
def test_indicator_form_answers_hostile_numbers_and_blank_choices(client, manager, data, message):
    """Found by tests/fuzz: numbers past the column's range and a blank choice gave a 500."""
    gjakove = municipality("gjakove")
    url = f"/observatory/municipalities/{gjakove.id}/indicators?year={YEAR}"
    response = client.post(url, data=data, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_a_recommendation_number_past_the_column_is_a_form_error(client, manager):
    """Found by tests/fuzz on PostgreSQL: the number overflowed the integer column (a 500);
    a NUL byte in the text was refused by PostgreSQL (a 500) and is dropped now."""
    form = {"year": "2024", "text_en": "Open\x00 the budgets.", "addressed_to": "MLGA\x00"}
    response = client.post(
        "/observatory/recommendations/new", data={**form, "number": "2147483648"}
    )
    assert response.status_code == 200
    assert "Enter a number no larger than 10000." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Recommendation.id))) == 0
    saved = client.post("/observatory/recommendations/new", data={**form, "number": "3"})
    assert saved.status_code == 302
    recommendation = db.session.scalar(sa.select(Recommendation))
    assert (recommendation.text_en, recommendation.addressed_to) == ("Open the budgets.", "MLGA")

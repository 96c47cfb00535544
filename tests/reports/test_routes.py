"""The logframe and report pages: permissions, forms, files, snapshots and drill-down."""

import io
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from app.auth.roles import Role
from app.extensions import db
from app.programmes.models import ProgrammeMember
from app.reports import services
from app.reports.models import Indicator, ReportExport, ReportSnapshot
from tests.conftest import create_user, login
from tests.reports.dataset import build

Q1_ARGS = "period=custom&starts_on=2026-01-01&ends_on=2026-03-31"


@pytest.fixture
def world(app):
    world = build()
    world.manager = create_user(Role.MANAGER, programme=world.programme)
    services.add_standard_indicators(world.programme)
    db.session.commit()
    return world


def test_only_the_programmes_managers_see_its_report(app, client, world):
    other = create_user(Role.MANAGER)
    trainer = create_user(Role.TRAINER, programme=world.programme)
    pid = world.programme.id
    for user in (other, trainer):
        visitor = app.test_client()
        login(visitor, user)
        assert visitor.get(f"/programmes/{pid}/report").status_code == 403
        assert visitor.get(f"/programmes/{pid}/logframe").status_code == 403
        assert (
            visitor.get(f"/programmes/{pid}/report/drill?measure=people_trained").status_code == 403
        )
    login(client, world.manager)
    assert client.get(f"/programmes/{pid}/report?{Q1_ARGS}").status_code == 200


def test_report_page_shows_actuals_charts_and_breakdowns(client, world):
    login(client, world.manager)
    page = client.get(f"/programmes/{world.programme.id}/report?{Q1_ARGS}").get_data(as_text=True)
    assert "People trained (counted once)" in page
    assert "<svg" in page and "Prishtinë/Priština" in page
    assert "Not disclosed" in page  # a breakdown cell


def test_a_period_from_the_programme_is_the_default(client, world):
    login(client, world.manager)
    period = world.periods["2026 Q1"]
    page = client.get(f"/programmes/{world.programme.id}/report?period={period.id}").get_data(
        as_text=True
    )
    assert "2026 Q1" in page


def test_reversed_dates_are_refused_with_a_message(client, world):
    login(client, world.manager)
    page = client.get(
        f"/programmes/{world.programme.id}/report?period=custom&starts_on=2026-03-31&ends_on=2026-01-01",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The period ends before it starts." in page


def test_xlsx_and_csv_downloads_are_recorded(client, world):
    login(client, world.manager)
    pid = world.programme.id
    xlsx = client.get(f"/programmes/{pid}/report/export/xlsx?{Q1_ARGS}")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert len(book.sheetnames) > 1
    csv = client.get(f"/programmes/{pid}/report/export/csv?{Q1_ARGS}")
    assert csv.data.startswith("\ufeff".encode())
    exports = db.session.scalars(sa.select(ReportExport).order_by(ReportExport.id)).all()
    assert [(e.format.value, e.user_id, e.starts_on) for e in exports] == [
        ("xlsx", world.manager.id, date(2026, 1, 1)),
        ("csv", world.manager.id, date(2026, 1, 1)),
    ]
    history = client.get(f"/programmes/{pid}/report/history").get_data(as_text=True)
    assert "Run again with today" in history


def test_pdf_donor_report(client, world):
    login(client, world.manager)
    response = client.get(
        f"/programmes/{world.programme.id}/report/export/pdf?{Q1_ARGS}&language=sq"
    )
    assert response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert world.programme.name in text and "Femër" in text


def test_iati_needs_an_identifier(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "IATI_REPORTING_ORG_REF", "XM-EXAMPLE")
    login(client, world.manager)
    response = client.get(
        f"/programmes/{world.programme.id}/report/export/iati?{Q1_ARGS}", follow_redirects=True
    )
    assert "IATI activity identifier" in response.get_data(as_text=True)
    world.programme.iati_identifier = "XM-EXAMPLE-DL2026"
    db.session.commit()
    response = client.get(f"/programmes/{world.programme.id}/report/export/iati?{Q1_ARGS}")
    assert response.status_code == 200 and b"<iati-activities" in response.data


def test_a_frozen_report_keeps_its_numbers_after_the_data_changes(client, world):
    login(client, world.manager)
    pid = world.programme.id
    response = client.post(
        f"/programmes/{pid}/report/freeze",
        data={
            "title": "Q1 to the donor",
            "starts_on": "2026-01-01",
            "ends_on": "2026-03-31",
            "language": "en",
            "public": "",
        },
    )
    snapshot = db.session.scalar(sa.select(ReportSnapshot))
    assert response.headers["Location"].endswith(f"/reports/snapshots/{snapshot.id}")
    before = client.get(f"/reports/snapshots/{snapshot.id}/export/csv").data
    people_trained = db.session.scalar(
        sa.select(Indicator).where(Indicator.measure == "people_trained")
    )
    assert people_trained is not None
    db.session.execute(sa.delete(ProgrammeMember).where(ProgrammeMember.user_id == -1))
    world.programme.attendance_threshold = 50  # B (60%) now counts as trained in live reports
    db.session.commit()
    assert client.get(f"/reports/snapshots/{snapshot.id}/export/csv").data == before
    live = client.get(f"/programmes/{pid}/report/export/csv?{Q1_ARGS}").data
    assert live != before


def test_drill_down_lists_the_people_behind_a_cell(client, world):
    login(client, world.manager)
    page = client.get(
        f"/programmes/{world.programme.id}/report/drill?{Q1_ARGS}&measure=people_trained&dimension=sex&key=female"
    ).get_data(as_text=True)
    assert "Çeku, Arbëresha" in page and "Žagar, Dafina" in page and "Đurić" not in page
    sessions = client.get(
        f"/programmes/{world.programme.id}/report/drill?{Q1_ARGS}&measure=sessions_held"
    )
    assert sessions.get_data(as_text=True).count("/roll-call") == 9


def test_logframe_editing_with_targets_and_manual_values(client, world):
    login(client, world.manager)
    pid = world.programme.id
    q1, q2 = world.periods["2026 Q1"], world.periods["2026 Q2"]
    response = client.post(
        f"/programmes/{pid}/logframe/new",
        data={
            "code": "OC1",
            "title": "Municipal policies adopted",
            "level": "outcome",
            "measure": "manual",
            "unit": "count",
            "target": "4",
            "means_of_verification": "Council decisions",
        },
    )
    indicator = db.session.scalar(sa.select(Indicator).where(Indicator.code == "OC1"))
    assert response.headers["Location"].endswith(f"/indicators/{indicator.id}")
    bad = client.post(
        f"/indicators/{indicator.id}",
        data={
            "code": "OC1",
            "title": "Municipal policies adopted",
            "level": "outcome",
            "measure": "manual",
            "unit": "count",
            f"target-{q1.id}": "two",
        },
    )
    assert "is not a number" in bad.get_data(as_text=True)
    client.post(
        f"/indicators/{indicator.id}",
        data={
            "code": "OC1",
            "title": "Municipal policies adopted",
            "level": "outcome",
            "measure": "manual",
            "unit": "count",
            f"target-{q1.id}": "1",
            f"target-{q2.id}": "2,5",
        },
    )
    no_link = client.post(
        f"/indicators/{indicator.id}/values",
        data={"value-period_id": q1.id, "value-value": "1", "value-evidence_url": "not a link"},
    )
    assert no_link.status_code == 200
    client.post(
        f"/indicators/{indicator.id}/values",
        data={
            "value-period_id": q1.id,
            "value-value": "1",
            "value-evidence_url": "https://example.org/decision.pdf",
        },
    )
    page = client.get(f"/programmes/{pid}/report?{Q1_ARGS}").get_data(as_text=True)
    assert "entered by hand" in page
    logframe = client.get(f"/programmes/{pid}/logframe").get_data(as_text=True)
    assert "2.5" in logframe and "OC1" in logframe
    client.post(f"/indicators/{indicator.id}/delete")
    assert db.session.get(Indicator, indicator.id) is None


def test_manager_home_shows_key_numbers_and_learners_at_risk(client, world):
    login(client, world.manager)
    page = client.get("/").get_data(as_text=True)
    assert "Latest sessions" in page and "Learners falling behind" in page

"""The donor report in Chromium: choose a period, read the charts, drill down, download, freeze."""

import pytest

from app.auth.roles import Role
from app.extensions import db
from app.reports import services
from tests.browser.conftest import run_axe
from tests.browser.test_journeys import sign_in
from tests.conftest import create_user
from tests.reports.dataset import build

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser):
    # axe is injected as an inline script, which our CSP rightly refuses: bypass it here only.
    context = browser.new_context(
        bypass_csp=True, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None
    )
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_manager_reads_drills_downloads_and_freezes_the_report(page, live_server):
    world = build()
    manager = create_user(Role.MANAGER, programme=world.programme)
    services.add_standard_indicators(world.programme)
    db.session.commit()
    sign_in(page, live_server, manager)
    page.goto(f"{live_server}/programmes/{world.programme.id}/report")
    page.get_by_label("Reporting period").select_option(label="2026 Q1")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name=f"{world.programme.name} · 2026 Q1").wait_for()
    assert page.locator("figure.chart svg").count() >= 2
    assert run_axe(page) == []

    page.locator("table.logframe tr", has_text="People trained (counted once)").get_by_role(
        "link"
    ).click()
    page.get_by_role("heading", name="People trained (counted once)").wait_for()
    assert page.get_by_role("link", name="Çeku, Arbëresha").count() == 1
    page.get_by_role("link", name="Back to the report").click()

    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_label("Name of the snapshot").fill("Q1 sent to the donor")
    page.get_by_role("button", name="Freeze this report").click()
    page.get_by_text("The report is frozen").wait_for()
    assert page.get_by_text("Q1 sent to the donor").count() >= 1
    assert page.console_errors == []

    page.goto(f"{live_server}/programmes/{world.programme.id}/logframe")
    assert page.get_by_role("cell", name="People trained (counted once)").count() >= 1
    assert run_axe(page) == []

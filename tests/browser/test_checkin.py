"""QR self check-in across two browser contexts: the trainer's screen and a learner's phone."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.attendance.models import Attendance, Channel
from app.auth.roles import Role
from app.enrollment.services import enrol
from app.extensions import db
from app.timeutil import utcnow
from tests.attendance.helpers import MANAGER
from tests.attendance.test_routes import teaching_world
from tests.browser.test_rollcall import sign_in
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser


def test_learner_checks_in_from_a_second_context_and_the_count_goes_up(
    browser, context, page, live_server
):
    world = teaching_world(2, starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=5))
    learner = create_user(Role.LEARNER, first_name="Vjosa", last_name="Krasniqi")
    enrol(
        run=world.run,
        person=learner.person,
        by=None,
        now=utcnow() - timedelta(days=3),
        source=MANAGER,
    )
    db.session.commit()

    sign_in(page, live_server, world.trainer)
    page.goto(f"{live_server}/sessions/{world.session.id}/qr")
    count = page.locator("#qr-count")
    expect(count).to_have_text("0")
    expect(page.locator("#qr-enrolled")).to_have_text("3")
    url = page.locator("#qr-image").get_attribute("data-url")
    assert f"/check-in/{world.session.id}/" in url

    phone = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    try:
        scan = phone.new_page()
        # Not signed in yet: the scan leads through sign-in and back to the check-in.
        scan.goto(url)
        scan.locator("input[type=email]").fill(learner.person.email)
        scan.locator("input[type=password]").fill(PASSWORD)
        scan.locator("main form button[type=submit]").click()
        scan.get_by_role("heading", name="Check in").wait_for()
        button = scan.get_by_role("button", name="I am here: check me in")
        if button.count() == 0:
            # Signing in took longer than the code lives: scan the current code again.
            scan.get_by_text("This code has expired").wait_for()
            scan.goto(page.locator("#qr-image").get_attribute("data-url"))
        scan.get_by_role("button", name="I am here: check me in").click()
        scan.get_by_text("You are checked in: Present.").wait_for()

        expect(count).to_have_text("1", timeout=10_000)
        expect(page.locator("#qr-recent")).to_contain_text("Vjosa K.")

        # A second scan changes nothing and says why.
        scan.goto(page.locator("#qr-image").get_attribute("data-url"))
        scan.get_by_role("button", name="I am here: check me in").click()
        scan.get_by_text("You are already checked in for this session.").wait_for()
    finally:
        phone.close()

    db.session.rollback()
    rows = db.session.execute(sa.select(Attendance.person_id, Attendance.channel)).all()
    assert rows == [(learner.person.id, Channel.QR)]
    assert page.console_errors == []

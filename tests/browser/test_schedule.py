import re

import pytest

from app.activities.models import ActivityParticipant
from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.extensions import db
from tests.activities.helpers import create_activity
from tests.attendance.helpers import add_session
from tests.browser.conftest import pass_two_step, run_axe
from tests.conftest import PASSWORD, create_course, create_person, create_run, create_user

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.goto(f"{base}/auth/sign-in")
    page.locator("input[type=email]").fill(user.person.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    pass_two_step(page, user)
    page.wait_for_url(re.compile(r"/$"))


def test_trainer_schedules_a_weekly_series_and_cancels_a_session(page, live_server):
    run = create_run(course=create_course(title_en="Open data for municipalities"))
    trainer = create_user(Role.TRAINER, programme=run.programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    sign_in(page, live_server, trainer)

    page.goto(f"{live_server}/runs/{run.id}")
    page.get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name="Add sessions").click()
    page.get_by_label("Date").fill("2026-12-01")
    page.get_by_label("Starts at").fill("10:00")
    page.get_by_label("Ends at").fill("12:00")
    assert page.get_by_label("Venue").input_value() == "Municipal hall"
    page.get_by_label("Repeat").select_option(label="Every week")
    page.get_by_label("Number of sessions").fill("4")
    page.get_by_role("button", name="Schedule").click()

    page.get_by_text("4 sessions are scheduled.").wait_for()
    rows = page.locator("table.sessions tbody tr")
    assert rows.count() == 4
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(4)] == [
        "Tuesday, December 1, 2026",
        "Tuesday, December 8, 2026",
        "Tuesday, December 15, 2026",
        "Tuesday, December 22, 2026",
    ]
    assert "10:00" in rows.first.inner_text()

    rows.nth(1).get_by_role("link", name=re.compile("^Cancel")).click()
    page.get_by_label("Reason").fill("The hall is booked for the assembly.")
    page.get_by_role("button", name="Cancel the session").click()
    page.get_by_text("The session is cancelled").wait_for()
    cancelled = page.locator("table.sessions tbody tr.session-cancelled")
    assert cancelled.count() == 1
    assert "December 8, 2026" in cancelled.inner_text() and "Cancelled" in cancelled.inner_text()
    assert cancelled.get_by_role("link").count() == 0  # no move or cancel for a cancelled one
    assert page.console_errors == []


def test_scheduling_and_activity_pages_have_no_serious_accessibility_violations(
    browser, live_server
):
    run = create_run()
    session = add_session(run)
    manager = create_user(Role.MANAGER, Role.TRAINER, programme=run.programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=manager.id))
    activity = create_activity(run.programme)
    activity.participants.append(ActivityParticipant(person=create_person(), attended=True))
    db.session.commit()
    # axe is injected as an inline script, which the app's CSP rightly forbids.
    context = browser.new_context(bypass_csp=True, locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server, manager)
    found = {}
    for path in [
        f"/runs/{run.id}/sessions",
        f"/runs/{run.id}/sessions/new",
        f"/sessions/{session.id}/move",
        f"/sessions/{session.id}/cancel",
        "/notifications",
        "/calendar",
        f"/programmes/{run.programme_id}/activities",
        f"/programmes/{run.programme_id}/activities/new",
        f"/activities/{activity.id}",
    ]:
        page.goto(live_server + path)
        if violations := run_axe(page):
            found[path] = violations
    context.close()
    assert found == {}

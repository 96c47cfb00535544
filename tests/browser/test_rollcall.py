"""Roll-call in Chromium: one-tap marks, and the offline journey the issue describes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.attendance.models import Attendance, AttendanceMark, Channel
from app.auth.roles import Role
from app.extensions import db
from app.timeutil import utcnow
from tests.attendance.test_routes import teaching_world
from tests.browser.conftest import pass_two_step, run_axe
from tests.conftest import PASSWORD, create_person, create_user

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.goto(f"{base}/auth/sign-in")
    page.locator("input[type=email]").fill(user.person.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    pass_two_step(page, user)
    page.wait_for_url(re.compile(r"^(?!.*sign-in)"))


def row(page, person):
    return page.locator(f"#person-{person.id}")


def tap(page, person, label):
    row(page, person).get_by_role("button", name=label, exact=True).click()


def pressed(page, person, label):
    return (
        row(page, person)
        .get_by_role("button", name=label, exact=True)
        .get_attribute("aria-pressed")
    )


def server_marks():
    """What the server wrote (the test thread's session must not read an old snapshot)."""
    db.session.rollback()
    rows = db.session.execute(sa.select(Attendance.person_id, Attendance.status)).all()
    return {person_id: str(status) for person_id, status in rows}


def world_for_browser(n=4):
    world = teaching_world(0, starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=10))
    from app.enrollment.services import enrol
    from tests.attendance.helpers import MANAGER

    names = ["Berisha", "Gashi", "Hoxha", "Krasniqi", "Morina", "Rexhepi"][:n]
    people = []
    for last in names:
        person = create_person(first_name="Ardita", last_name=last)
        enrol(
            run=world.run, person=person, by=None, now=utcnow() - timedelta(days=5), source=MANAGER
        )
        people.append(person)
    db.session.commit()
    return world, people


def test_roll_call_taps_save_and_survive_a_reload(page, live_server):
    world, (a, b, c, d) = world_for_browser()
    sign_in(page, live_server, world.trainer)
    page.goto(f"{live_server}/sessions/{world.session.id}/roll-call")
    page.locator("#rollcall[data-ready=true]").wait_for()

    tap(page, a, "Present")
    tap(page, b, "Late")
    row(page, b).locator("input[name=remark]").fill("Bus from Podujevë")
    row(page, b).locator("input[name=remark]").press("Enter")
    row(page, a).get_by_text("Saved").wait_for()
    page.get_by_text("All changes saved").wait_for()
    expect(row(page, b).locator("[data-state]")).to_have_text("Saved")
    assert pressed(page, a, "Present") == "true" and pressed(page, a, "Absent") == "false"
    assert server_marks() == {a.id: "present", b.id: "late"}

    # The search box filters as you type, diacritics or not.
    page.get_by_label("Find on the list").fill("krasn")
    assert row(page, c).is_hidden() and row(page, d).is_visible()
    page.get_by_label("Find on the list").fill("")

    # "All present" marks only those not marked yet.
    page.get_by_role("button", name="All present").click()
    for person in (c, d):
        expect(row(page, person).locator("[data-state]")).to_have_text("Saved")
    expect(page.locator("#rollcall-status")).to_have_attribute("data-pending", "0")
    assert server_marks() == {a.id: "present", b.id: "late", c.id: "present", d.id: "present"}

    page.reload()
    page.locator("#rollcall[data-ready=true]").wait_for()
    assert pressed(page, b, "Late") == "true"
    assert row(page, b).locator("input[name=remark]").input_value() == "Bus from Podujevë"
    assert "Jelena Đorđević" in row(page, b).locator("[data-current]").inner_text()
    assert page.console_errors == []


def test_offline_roll_call_survives_closing_the_page_and_syncs_exactly_once(
    context, page, live_server
):
    world, (a, b, c, d) = world_for_browser()
    url = f"{live_server}/sessions/{world.session.id}/roll-call"
    sign_in(page, live_server, world.trainer)
    page.goto(url)
    # The roster is loaded and kept by the service worker: ready to work offline.
    page.locator("#rollcall[data-offline-ready=true]").wait_for(timeout=20_000)
    page.get_by_text("Ready to work offline on this device.").wait_for()

    context.set_offline(True)
    tap(page, a, "Present")
    tap(page, b, "Absent")
    page.get_by_text("2 changes waiting for connection").wait_for()
    assert server_marks() == {}

    # Close the page; open a new one on the same context, still offline: the service
    # worker serves the roll-call, and the marks come back from IndexedDB.
    page.close()
    again = context.new_page()
    again.goto(url)
    again.locator("#rollcall[data-ready=true]").wait_for()
    assert pressed(again, a, "Present") == "true" and pressed(again, b, "Absent") == "true"
    again.get_by_text("2 changes waiting for connection").wait_for()
    tap(again, b, "Late")  # changed her mind: the later mark wins
    tap(again, c, "Excused")
    again.get_by_text("4 changes waiting for connection").wait_for()
    assert server_marks() == {}

    context.set_offline(False)
    again.get_by_text("All changes saved").wait_for(timeout=20_000)
    assert server_marks() == {a.id: "present", b.id: "late", c.id: "excused"}
    db.session.rollback()
    marks = db.session.execute(sa.select(AttendanceMark.person_id, AttendanceMark.channel)).all()
    assert len(marks) == 4  # every tap exactly once, the superseded one kept as history
    assert {channel for _, channel in marks} == {Channel.OFFLINE_SYNC}
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 3
    assert d.id not in server_marks()

    # Reloading online sends nothing again.
    again.reload()
    again.get_by_text("All changes saved").wait_for()
    again.wait_for_timeout(500)
    assert db.session.scalar(sa.select(sa.func.count(AttendanceMark.id))) == 4


def test_roll_call_qr_and_check_in_pages_are_accessible(browser, live_server):
    world, (a, *_) = world_for_browser(3)
    learner = create_user(Role.LEARNER)
    from app.enrollment.services import enrol
    from tests.attendance.helpers import MANAGER

    enrol(
        run=world.run,
        person=learner.person,
        by=None,
        now=utcnow() - timedelta(days=3),
        source=MANAGER,
    )
    db.session.commit()
    # axe is injected as an inline script, which the CSP forbids: this context bypasses it.
    context = browser.new_context(
        bypass_csp=True, locale="en-GB", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        sign_in(page, live_server, world.trainer)
        page.goto(f"{live_server}/sessions/{world.session.id}/roll-call")
        page.locator("#rollcall[data-ready=true]").wait_for()
        tap(page, a, "Late")
        expect(row(page, a).locator("[data-state]")).to_have_text("Saved")
        assert run_axe(page) == []
        # Keyboard: Tab reaches the buttons, Space presses one.
        row(page, a).get_by_role("button", name="Excused", exact=True).focus()
        page.keyboard.press("Space")
        expect(row(page, a).get_by_role("button", name="Excused", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        page.goto(f"{live_server}/sessions/{world.session.id}/qr")
        assert run_axe(page) == []
        url = page.locator("#qr-image").get_attribute("data-url")
        page.context.clear_cookies()
        sign_in(page, live_server, learner)
        page.goto(url)
        page.get_by_role("heading", name="Check in").wait_for()
        assert run_axe(page) == []
    finally:
        context.close()


def test_a_conflict_is_shown_on_the_row(app, page, live_server):
    """A colleague's later mark stands; the trainer whose phone was behind is told so."""
    world, (a, *_) = world_for_browser(2)
    from app.courses.models import CourseRunTrainer
    from tests.conftest import login

    colleague = create_user(Role.TRAINER, programme=world.run.programme, first_name="Arben")
    db.session.add(CourseRunTrainer(run_id=world.run.id, user_id=colleague.id))
    db.session.commit()
    # This phone's clock is an hour behind: its taps carry an earlier device time.
    page.clock.install(time=datetime.now(UTC) - timedelta(hours=1))
    sign_in(page, live_server, world.trainer)
    page.goto(f"{live_server}/sessions/{world.session.id}/roll-call")
    page.locator("#rollcall[data-ready=true]").wait_for()
    # Meanwhile the colleague marks her excused, from another phone (a writing request, so it
    # takes SQLite's write lock up front like the server's own requests).
    mark = {
        "client_id": "colleague-0001",
        "session_id": world.session.id,
        "person_id": a.id,
        "status": "excused",
        "marked_at": utcnow().isoformat() + "Z",
    }
    colleague_phone = app.test_client()
    db.session.rollback()  # requests from this thread share its session: start them afresh
    login(colleague_phone, colleague)
    assert colleague_phone.post("/api/attendance/marks", json={"marks": [mark]}).status_code == 200
    db.session.rollback()
    tap(page, a, "Absent")
    state = row(page, a).locator("[data-state]")
    expect(state).to_have_text(re.compile(r"Kept Arben's later mark: Excused \(\d\d:\d\d\)"))
    assert pressed(page, a, "Excused") == "true" and pressed(page, a, "Absent") == "false"
    assert server_marks() == {a.id: "excused"}


def test_walk_in_found_as_you_type_and_added(page, live_server):
    world, _ = world_for_browser(2)
    from app.programmes.services import add_participant

    drilon = create_person(first_name="Drilon", last_name="Shala")
    add_participant(programme_id=world.run.programme_id, person=drilon)
    db.session.commit()
    sign_in(page, live_server, world.trainer)
    page.goto(f"{live_server}/sessions/{world.session.id}/roll-call")
    page.locator("#rollcall[data-ready=true]").wait_for()
    page.get_by_label("Find a person").fill("d")
    page.get_by_text("Type at least two letters.").wait_for()
    page.get_by_label("Find a person").fill("shal")
    results = page.locator("#walk-in-results")
    expect(results).to_contain_text("Drilon Shala")
    results.get_by_role("button", name="Add to the roster").click()
    page.get_by_text("Drilon Shala is on the roster now.").wait_for()
    tap(page, drilon, "Present")
    expect(row(page, drilon).locator("[data-state]")).to_have_text("Saved")
    assert server_marks() == {drilon.id: "present"}

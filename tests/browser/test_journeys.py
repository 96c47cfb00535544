import re

import pytest
from flask_babel import force_locale, gettext

from app.auth.roles import Role
from app.enrollment.services import enrol
from app.extensions import db
from tests.browser.conftest import pass_two_step
from tests.conftest import PASSWORD, create_course, create_person, create_run, create_user

pytestmark = pytest.mark.browser


def sign_in(page, base, user, password=PASSWORD):
    page.goto(f"{base}/auth/sign-in")
    page.get_by_label(re.compile("E-mail|Email|E-pošta", re.I)).fill(user.person.email)
    page.locator("input[type=password]").fill(password)
    page.locator("form button[type=submit]").last.click()
    pass_two_step(page, user)


def test_sign_up_confirm_and_sign_in(page, live_server, app):
    page.goto(f"{live_server}/auth/sign-up")
    page.get_by_label("First name").fill("Shpëtim")
    page.get_by_label("Last name").fill("Dreshaj")
    page.get_by_label("E-mail").fill("shpetim@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    body = app.extensions["mail_outbox"][-1].get_content()
    link = re.search(r"http://\S+/auth/confirm/\S+", body).group(0)
    page.goto(re.sub(r"^http://[^/]+", live_server, link))
    page.get_by_text("Your e-mail address is confirmed").wait_for()
    page.get_by_label("E-mail").fill("shpetim@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.get_by_role("heading", name=re.compile("Welcome, Shpëtim")).wait_for()
    assert page.console_errors == []


def test_sign_in_in_albanian(browser, live_server, app):
    user = create_user()
    with app.test_request_context(), force_locale("sq"):
        sign_in_label = gettext("Sign in")
        welcome = gettext("Welcome, %(name)s", name=user.person.first_name)
    assert sign_in_label != "Sign in", "the Albanian catalogue must translate 'Sign in'"
    context = browser.new_context(locale="sq-AL")
    page = context.new_page()
    page.goto(f"{live_server}/auth/sign-in")
    assert page.locator("html").get_attribute("lang") == "sq"
    page.get_by_role("heading", name=sign_in_label).wait_for()
    page.locator("input[type=email]").fill(user.person.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.get_by_role("heading", name=welcome).wait_for()
    context.close()


def test_browse_catalogue_and_enrol(page, live_server):
    create_run(course=create_course(title_en="Publishing open data"), capacity=5)
    create_run(course=create_course(title_en="Cyber hygiene basics"), capacity=5)
    user = create_user()
    sign_in(page, live_server, user)
    page.goto(f"{live_server}/courses")
    page.get_by_label("Search").fill("open data")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("1 course found").wait_for()
    page.get_by_role("link", name="Publishing open data").click()
    page.get_by_role("button", name="Enrol").click()
    page.get_by_text("You are enrolled").wait_for()
    page.goto(f"{live_server}/my-courses")
    assert page.get_by_role("cell", name="Publishing open data").is_visible()


def test_full_course_puts_learner_on_waiting_list(page, live_server):
    run = create_run(course=create_course(title_en="Digital communication"), capacity=1)
    enrol(run=run, person=create_person(), by=None)
    db.session.commit()
    sign_in(page, live_server, create_user())
    page.goto(f"{live_server}/runs/{run.id}")
    page.get_by_role("button", name="Join the waiting list").click()
    page.get_by_text("you are on the waiting list").wait_for()
    assert page.get_by_text("On the waiting list").first.is_visible()


def test_manager_sees_dashboard(page, live_server):
    from tests.conftest import create_programme

    programme = create_programme(name="Digital Kosovo")
    manager = create_user(Role.MANAGER, programme=programme)
    sign_in(page, live_server, manager)
    page.get_by_role("link", name=re.compile("Digital Kosovo")).wait_for()

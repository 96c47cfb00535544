import re

import pytest
import sqlalchemy as sa

from app.auth.roles import Role
from app.enrollment.services import enrol
from app.extensions import db
from app.people.models import Person
from app.programmes.services import add_participant
from tests.browser.conftest import run_axe
from tests.browser.test_journeys import sign_in
from tests.conftest import create_course, create_person, create_programme, create_run, create_user

pytestmark = pytest.mark.browser

CSV = (
    "first_name;last_name;email;sex;birth_year;municipality;position\n"
    "Blerta;Krasniqi;blerta.k@example.org;F;1988;Gjakovë;IT officer\n"
    "Miloš;Đorđević;milos.d@example.org;M;1979;Gračanica;Archivist\n"
    "Fjolla;Shala;not-an-email;F;1993;Atlantis;Officer\n"
)


def test_manager_imports_csv_with_a_bad_row(page, live_server, tmp_path):
    programme = create_programme(name="Digital Kosovo")
    manager = create_user(Role.MANAGER, programme=programme)
    upload = tmp_path / "participants.csv"
    upload.write_text(CSV, encoding="utf-8")
    sign_in(page, live_server, manager)
    page.goto(f"{live_server}/programmes/{programme.id}/people/import")
    page.get_by_label("CSV or Excel file").set_input_files(str(upload))
    page.get_by_role("button", name="Check the file").click()
    # The preview shows every row, the bad one with its problems, and saves nothing.
    page.get_by_role("button", name="Import 2 valid rows").wait_for()
    bad_row = page.locator("tr.row-error")
    assert bad_row.count() == 1
    assert "Atlantis" in bad_row.inner_text()
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Person.id)).where(Person.email.like("%@example.org"))
        )
        == 1
    )  # only the manager
    page.get_by_role("button", name="Import 2 valid rows").click()
    page.get_by_role("heading", name=re.compile("finished")).wait_for()
    db.session.rollback()  # end the test's read snapshot to see what the server wrote
    names = set(
        db.session.scalars(
            sa.select(Person.last_name).where(
                Person.email.in_(["blerta.k@example.org", "milos.d@example.org"])
            )
        )
    )
    assert names == {"Krasniqi", "Đorđević"}


@pytest.fixture
def axe_context(browser):
    # axe is injected as an inline script, which the app's CSP rightly forbids.
    context = browser.new_context(bypass_csp=True, locale="en-GB")
    yield context
    context.close()


def test_main_pages_have_no_serious_accessibility_violations(axe_context, live_server):
    programme = create_programme()
    run = create_run(programme, create_course(slug="a11y-course"))
    admin = create_user(Role.ADMIN)
    person = create_person()
    add_participant(programme_id=programme.id, person=person)
    enrol(run=run, person=admin.person, by=None)
    db.session.commit()
    page = axe_context.new_page()
    public_pages = [
        "/",
        "/courses",
        "/courses/a11y-course",
        f"/runs/{run.id}",
        "/auth/sign-in",
        "/auth/sign-up",
        "/auth/forgot-password",
    ]
    signed_in_pages = [
        "/",
        "/my-courses",
        "/profile",
        "/people",
        f"/people/{person.id}",
        "/programmes",
        f"/programmes/{programme.id}",
        f"/runs/{run.id}/enrolments",
        f"/programmes/{programme.id}/people/import",
        "/admin/users",
        "/places",
        "/auth/password",
        "/teaching",
    ]
    found = {}
    for path in public_pages:
        page.goto(live_server + path)
        if violations := run_axe(page):
            found[path] = violations
    sign_in(page, live_server, admin)
    for path in signed_in_pages:
        page.goto(live_server + path)
        if violations := run_axe(page):
            found["signed in " + path] = violations
    assert found == {}


def test_pages_load_without_csp_violations(page, live_server):
    create_run(course=create_course(slug="csp-course"))
    for path in ["/", "/courses", "/courses/csp-course", "/auth/sign-in"]:
        page.goto(live_server + path)
    assert page.console_errors == []


def test_phone_layout_has_no_horizontal_scroll(browser, live_server):
    create_run(course=create_course(title_en="Open data on a phone"))
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    for path in ["/", "/courses", "/auth/sign-in"]:
        page.goto(live_server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
    context.close()

"""Certificates in Chromium: issue in bulk with progress, download, verify online and offline
(WebCrypto Ed25519), revoke, and what a learner sees."""

import re
import zipfile

import pytest

from app.auth.models import User, UserRole
from app.auth.roles import Role
from app.certificates import pipeline, queries, services
from app.certificates.models import CertificateKind, CertificateLanguage, JobFormat
from app.extensions import db
from tests.browser.conftest import run_axe
from tests.browser.test_journeys import sign_in
from tests.certificates.helpers import finished_run, write_transaction
from tests.conftest import _PASSWORD_HASH

pytestmark = pytest.mark.browser

# Rendering happens inside requests here (the queue runs tasks immediately in tests): allow
# for a slow, shared machine.
SLOW = 60_000


def _account(person) -> User:
    from datetime import datetime

    user = User(
        person=person, password_hash=_PASSWORD_HASH, email_confirmed_at=datetime(2026, 1, 1)
    )
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.commit()
    return user


def test_manager_sets_the_rule_issues_in_bulk_and_downloads(page, live_server):
    page.set_default_timeout(SLOW)
    world = finished_run(3, sessions=4, attended=3)
    sign_in(page, live_server, world.manager)
    page.goto(f"{live_server}/runs/{world.run.id}/certificates")
    assert (
        page.get_by_text("Attendance is 75%; at least 80% of the sessions is needed.").count() == 3
    )
    page.get_by_role("link", name="Change the rule").click()
    page.get_by_label("Minimum attendance (%)").fill("75")
    page.get_by_label("Language of the certificate").select_option("sr_Latn+en")
    page.get_by_role("button", name="Save the rule").click()
    page.get_by_text("The rule is saved.").wait_for()
    # Saving the rule issued the three certificates that are now due.
    assert page.locator(".certificate-table .badge-ok").count() == 3
    page.get_by_label("One PDF with a page per learner, for printing").check()
    page.get_by_role("button", name="Issue the certificates of this run").click()
    page.get_by_role("heading", name="Issuing certificates").wait_for()
    assert page.locator("#job-progress").get_attribute("value") == "100"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert page.console_errors == []


def test_progress_bar_follows_a_job_running_in_the_background(page, live_server):
    page.set_default_timeout(SLOW)
    world = finished_run(4)
    services.claim_due_certificates(world.run)
    job, _ = services.start_job(world.run, by=world.manager, output_format=JobFormat.ZIP)
    db.session.info.pop("certificates_after_commit")  # the "worker" below runs it
    db.session.commit()
    job_id = job.id
    sign_in(page, live_server, world.manager)
    page.goto(f"{live_server}/certificates/jobs/{job_id}")
    assert page.locator("#job-progress").get_attribute("value") == "0"
    assert page.get_by_text("you can close this page").count() == 1
    write_transaction()
    db.session.commit()
    pipeline.run_job(job_id)  # what the queue's consumer does meanwhile
    link = page.locator("[data-job='link']")
    link.wait_for(state="visible")
    assert page.locator("#job-progress").get_attribute("value") == "100"
    assert page.locator("[data-job='done']").inner_text() == "4"
    with page.expect_download() as download:
        link.click()
    names = zipfile.ZipFile(download.value.path()).namelist()
    assert len(names) == 4
    assert page.console_errors == []


def test_learner_sees_what_is_missing_then_downloads(page, live_server):
    page.set_default_timeout(SLOW)
    world = finished_run(2, sessions=4, attended=2)
    learner = _account(world.people[0])
    sign_in(page, live_server, learner)
    page.goto(f"{live_server}/runs/{world.run.id}")
    page.get_by_text("Still needed for your certificate:").wait_for()
    assert page.get_by_text("Attendance is 50%").count() == 1
    write_transaction()
    services.save_rule(
        world.run,
        kind=CertificateKind.ATTENDANCE,
        min_attendance=50,
        require_post_test=False,
        require_survey=False,
        language=CertificateLanguage.SQ,
        by=None,
    )
    db.session.commit()
    pipeline.issue_run_now(world.run)
    page.goto(f"{live_server}/certificates/mine")
    page.get_by_role("heading", name="My certificates").wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download PDF")).click()
    assert download.value.suggested_filename.startswith("AK-")
    assert page.console_errors == []


def test_anyone_verifies_online_and_offline_in_the_browser(page, live_server):
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    db.session.expire_all()
    (certificate,) = queries.of_run(world.run.id)
    qr_text = f"{certificate.snapshot['verify_url']}#{certificate.token}"
    # The QR code's address, on this server.
    page.goto(re.sub(r"^http://[^/]+", live_server, qr_text))
    page.get_by_text("Arbëresha Çeku-Đorđević").wait_for()
    assert page.get_by_text("Valid", exact=False).count() >= 1
    page.get_by_role("link", name="Check the QR code's signature offline").click()
    page.get_by_label("Payload or QR code address").fill(qr_text)
    page.get_by_role("button", name="Check the signature").click()
    result = page.locator("#offline-result [data-result]")
    result.wait_for()
    assert result.get_attribute("data-result") == "valid"  # checked by WebCrypto, not the server
    assert page.url.endswith("/verify/offline")
    assert page.locator("#offline-result").get_by_text("Arbëresha Çeku-Đorđević").count() == 1
    assert page.locator("#offline-result").get_by_text(certificate.number).count() == 1
    body, signature = certificate.token.split(".")
    page.get_by_label("Payload or QR code address").fill(f"{body[:-2]}xx.{signature}")
    page.get_by_role("button", name="Check the signature").click()
    page.locator(
        "#offline-result [data-result='invalid'], #offline-result [data-result='malformed']"
    ).wait_for()
    assert page.console_errors == []


def test_offline_page_works_with_the_network_gone(page, live_server, context):
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    db.session.expire_all()
    (certificate,) = queries.of_run(world.run.id)
    page.goto(f"{live_server}/verify/offline")
    page.wait_for_load_state("networkidle")
    context.set_offline(True)
    try:
        page.get_by_label("Payload or QR code address").fill(certificate.token)
        page.get_by_role("button", name="Check the signature").click()
        page.locator("#offline-result [data-result='valid']").wait_for()
    finally:
        context.set_offline(False)


def test_manager_revokes_and_verification_says_so(page, live_server):
    page.set_default_timeout(SLOW)
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    db.session.expire_all()
    (certificate,) = queries.of_run(world.run.id)
    sign_in(page, live_server, world.manager)
    page.goto(f"{live_server}/certificates/{certificate.id}")
    page.get_by_label("Reason").fill("Issued to the wrong course run")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke the certificate").click()
    page.get_by_text("The certificate is revoked").wait_for()
    page.goto(f"{live_server}/verify/{certificate.code}")
    page.get_by_text("Issued to the wrong course run").wait_for()
    assert page.locator(".badge-err").inner_text() == "Revoked"
    assert page.console_errors == []


def test_certificate_pages_are_accessible_and_fit_a_phone(browser, live_server):
    world = finished_run(2)
    pipeline.issue_run_now(world.run)
    db.session.expire_all()
    certificate = queries.of_run(world.run.id)[0]
    learner = _account(world.people[0])
    db.session.commit()
    # axe is injected as an inline script, which our CSP rightly refuses: bypass it here only.
    context = browser.new_context(
        bypass_csp=True, locale="en-GB", viewport={"width": 375, "height": 740}
    )
    page = context.new_page()
    try:
        public = [
            f"/verify/{certificate.code}",
            "/verify",
            "/verify/offline",
            "/verify/ABCDE-FGHJK-MNPQR-STVWX",
        ]
        signed_in = {
            learner: [
                "/certificates/mine",
                f"/certificates/{certificate.id}",
                f"/runs/{world.run.id}",
            ],
            world.manager: [
                f"/runs/{world.run.id}/certificates",
                f"/runs/{world.run.id}/certificates/rule",
                f"/certificates/{certificate.id}",
            ],
        }
        problems = {}
        for path in public:
            page.goto(f"{live_server}{path}")
            if violations := run_axe(page):
                problems[path] = violations
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} scrolls sideways on a phone ({width}px)"
        for user, paths in signed_in.items():
            sign_in(page, live_server, user)
            for path in paths:
                page.goto(f"{live_server}{path}")
                if violations := run_axe(page):
                    problems[path] = violations
            page.context.clear_cookies()
        assert problems == {}
    finally:
        context.close()

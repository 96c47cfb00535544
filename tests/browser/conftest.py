"""Browser tests: Debian's Chromium driven by Playwright against the app served on 127.0.0.1."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["SERVER_NAME"] = None  # the browser uses 127.0.0.1:<port>
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.config["SERVER_NAME"] = "localhost"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    args = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    return page


def run_axe(page) -> list[dict]:
    """Serious and critical accessibility violations on the current page."""
    assert AXE.exists(), "axe-core is missing: run `make test` (scripts/axe_core.sh installs it)"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def pass_two_step(page, user) -> None:
    """After the password step, enter the fixture user's code when the account has 2FA on."""
    import pyotp
    import sqlalchemy as sa

    from app.auth.models import User
    from app.extensions import db
    from tests.conftest import TOTP_SECRET

    user_id = user.id
    if not user.two_factor_enabled:
        return
    page.wait_for_url("**/auth/sign-in/code")
    # SQLite cannot turn a read begun before the server's writes into a write ("database is
    # locked" at once, whatever the busy timeout): start afresh.
    db.session.rollback()
    # As in tests.conftest.login: one user may sign in more than once within 30 seconds.
    db.session.execute(sa.update(User).where(User.id == user_id).values(totp_last_step=None))
    db.session.commit()
    page.locator("input[name=code]").fill(pyotp.TOTP(TOTP_SECRET).now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/auth/sign-in" not in url)

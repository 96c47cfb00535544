"""Two app machines behind one load balancer, sharing only PostgreSQL and Redis.

Two gunicorn servers (deploy/gunicorn.conf.py, 2 workers each, AKADEMIA_ENV=production,
PROXY_COUNT=1 as behind nginx) and one Huey consumer run against the test database and
TEST_REDIS_URL. Sessions, rate limits and background work must not care which server a
request reaches.
"""

import json
import os
import re
import secrets
import signal
import time

import pyotp
import pytest
import sqlalchemy as sa

from app.auth.models import User, UserSession
from app.auth.roles import Role
from app.auth.routes import ADDRESS_LIMIT
from app.certificates.models import Certificate, CertificateStatus
from app.extensions import db
from tests.certificates.helpers import finished_run
from tests.conftest import PASSWORD, TOTP_SECRET, create_user
from tests.deploy.cluster import BIN, Browser, Process, Server

REDIS_URL = os.environ.get("TEST_REDIS_URL")
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgres"),
        reason="several machines cannot share a SQLite file: needs TEST_DATABASE_URL=postgresql://...",
    ),
    pytest.mark.skipif(
        not REDIS_URL, reason="needs TEST_REDIS_URL (scripts/run_tests.sh starts a Redis)"
    ),
]


def _flush_redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def cluster(app, tmp_path_factory):
    """Servers A and B and one consumer; stopped (and Redis emptied) even when a test fails."""
    tmp = tmp_path_factory.mktemp("cluster")
    _flush_redis()  # no queued task or rate-limit count from an earlier run
    env = {
        **os.environ,
        "AKADEMIA_ENV": "production",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(48),
        # The managers' two-step secrets were stored by the tests' app, under its key.
        "TOTP_ENCRYPTION_KEY": app.config["SECRET_KEY"],
        "CERT_PUBLIC_URL": "https://akademia.test",
        # Shared storage in production (docs/deploy.md); one folder here.
        "CERT_STORAGE_DIR": str(tmp / "certificates"),
        "CERT_SIGNING_KEY_PATH": str(tmp / "signing_key.pem"),
        "MAIL_BACKEND": "file",
        "PROXY_COUNT": "1",
        "LOG_FORMAT": "json",
    }
    for name in ("HUEY_IMMEDIATE", "HUEY_SQLITE_PATH", "TEST_DATABASE_URL"):
        env.pop(name, None)
    processes = []
    try:
        servers = [Server(name, env, tmp) for name in ("server-a", "server-b")]
        processes.extend(servers)
        consumer = Process(
            "consumer",
            [str(BIN / "huey_consumer"), "app.tasks.huey", "-w", "2", "-k", "thread"],
            env,
            tmp,
        )
        processes.append(consumer)
        for server in servers:
            server.wait_ready()
        yield {"a": servers[0], "b": servers[1], "consumer": consumer}
    finally:
        for process in processes:
            # SIGINT is the consumer's graceful stop; SIGTERM gunicorn's.
            process.stop(signal.SIGINT if process.name == "consumer" else signal.SIGTERM)
        _flush_redis()


def _sign_in(browser, server, user):
    token = browser.csrf_token(server, "/auth/sign-in")
    status, headers, _ = browser.post(
        server,
        "/auth/sign-in",
        {"csrf_token": token, "email": user.person.email, "password": PASSWORD},
    )
    assert status == 302, status
    if headers["Location"].endswith("/auth/sign-in/code"):
        # A manager's second step; the step's code may have been used by another test.
        db.session.execute(sa.update(User).where(User.id == user.id).values(totp_last_step=None))
        db.session.commit()
        token = browser.csrf_token(server, "/auth/sign-in/code")
        code = pyotp.TOTP(TOTP_SECRET).now()
        status, headers, _ = browser.post(
            server, "/auth/sign-in/code", {"csrf_token": token, "code": code}
        )
        assert status == 302, status
    assert "/auth/sign-in" not in headers["Location"]


def test_session_from_one_server_is_valid_on_the_other_and_ends_on_both(cluster):
    a, b = cluster["a"], cluster["b"]
    user = create_user()
    db.session.commit()
    browser = Browser("198.51.100.10")
    _sign_in(browser, a, user)
    stolen = dict(browser.cookies)  # what the browser held while signed in

    status, _, _ = browser.get(b, "/auth/sessions")
    assert status == 200, "server B does not know the session started on A"

    token = browser.csrf_token(b, "/auth/sessions")
    status, headers, _ = browser.post(b, "/auth/sign-out", {"csrf_token": token})
    assert status == 302

    # Signing out on B removed the server-side row: the old cookie is worthless on A too.
    status, headers, _ = Browser("198.51.100.10", stolen).get(a, "/auth/sessions")
    assert status == 302 and "/auth/sign-in" in headers["Location"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_sign_in_rate_limit_counts_attempts_on_both_servers(cluster):
    a, b = cluster["a"], cluster["b"]
    allowed = int(re.match(r"\d+", ADDRESS_LIMIT).group())
    browser = Browser("198.51.100.20")
    token = browser.csrf_token(a, "/auth/sign-in")
    remaining = []
    for attempt in range(allowed):
        server = (a, b)[attempt % 2]
        status, headers, _ = browser.post(
            server,
            "/auth/sign-in",
            {"csrf_token": token, "email": f"nobody{attempt}@example.org", "password": "wrong"},
        )
        assert status == 200, (attempt, status)  # the form again, with its error
        remaining.append(int(headers["X-RateLimit-Remaining"]))
    # One count for four worker processes on two machines: each attempt lowers it by one.
    assert remaining == list(range(allowed - 1, -1, -1))
    for server in (a, b):
        status, _, _ = browser.post(
            server,
            "/auth/sign-in",
            {"csrf_token": token, "email": "nobody@example.org", "password": "wrong"},
        )
        assert status == 429
    # The limit is per client address, which the servers take from the proxy's header.
    other = Browser("198.51.100.21")
    token = other.csrf_token(b, "/auth/sign-in")
    status, _, _ = other.post(
        b, "/auth/sign-in", {"csrf_token": token, "email": "x@example.org", "password": "wrong"}
    )
    assert status == 200


def test_job_started_on_one_server_is_run_by_the_consumer_and_seen_on_the_other(cluster):
    a, b, consumer = cluster["a"], cluster["b"], cluster["consumer"]
    world = finished_run(3)
    run_id = world.run.id
    manager = world.manager
    db.session.commit()
    browser = Browser("198.51.100.30")
    _sign_in(browser, a, manager)
    token = browser.csrf_token(a, f"/runs/{run_id}/certificates")
    status, headers, _ = browser.post(
        a, f"/runs/{run_id}/certificates/jobs", {"csrf_token": token, "output_format": "pdf"}
    )
    assert status == 302, status
    job_id = int(re.search(r"/certificates/jobs/(\d+)", headers["Location"]).group(1))

    deadline = time.monotonic() + 180
    job = None
    while time.monotonic() < deadline:
        assert consumer.alive(), consumer.log()[-4000:]
        status, _, body = browser.get(b, f"/certificates/jobs/{job_id}.json")
        assert status == 200
        job = json.loads(body)
        if job["finished"]:
            break
        time.sleep(0.5)
    assert job and job["status"] == "done", f"{job}\n{consumer.log()[-4000:]}"
    assert (job["done"], job["total"]) == (3, 3)

    status, headers, body = browser.get(b, f"/certificates/jobs/{job_id}/download")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert body.startswith(b"%PDF")
    db.session.rollback()
    statuses = db.session.scalars(
        sa.select(Certificate.status).where(Certificate.run_id == run_id)
    ).all()
    assert statuses == [CertificateStatus.VALID] * 3
    # The consumer did the work (web workers only enqueue), and logged it once, as JSON.
    executed = [
        line
        for line in consumer.log().splitlines()
        if "app.certificates.tasks.run_job_task" in line and "executed in" in line
    ]
    assert len(executed) == 1 and json.loads(executed[0])["level"] == "INFO"


def test_each_request_is_logged_once_as_json_by_the_server_that_answered(cluster):
    a = cluster["a"]
    browser = Browser("198.51.100.40")
    user = create_user(Role.LEARNER)
    db.session.commit()
    _sign_in(browser, a, user)
    marker = secrets.token_hex(8)
    browser.get(a, f"/about?token={marker}")
    time.sleep(0.2)
    log = a.log()
    assert marker not in log, "a query string reached the log"
    assert PASSWORD not in log and user.person.email not in log

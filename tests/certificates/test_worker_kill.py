"""Kill the queue's consumer (SIGKILL) in the middle of a bulk job, twice, restart it, and
check that every certificate exists exactly once, is valid, has its PDF and verifies."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.certificates import signing, storage
from app.certificates.models import Certificate, CertificateJob, CertificateStatus, JobStatus
from app.extensions import db
from tests.certificates.helpers import finished_run
from tests.processes import ChildProcess

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LEARNERS = 40
LEASE_SECONDS = 2


@pytest.fixture
def worker_env(app, tmp_path):
    signing.private_key()  # made now, so the consumer signs with the same key
    env = {
        **os.environ,
        "AKADEMIA_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "CERT_STORAGE_DIR": str(storage.storage_dir()),
        "CERT_SIGNING_KEY_PATH": str(signing.key_path(app)),
        "CERT_PUBLIC_URL": "http://localhost",
        "CERT_LEASE_SECONDS": str(LEASE_SECONDS),
        "HUEY_SQLITE_PATH": str(tmp_path / "huey.sqlite"),
        "FLASK_APP": "wsgi",
    }
    env.pop("HUEY_IMMEDIATE", None)
    return env


def start_consumer(env, log: Path) -> ChildProcess:
    return ChildProcess(
        [str(BIN / "huey_consumer"), "app.tasks.huey", "-w", "1", "-k", "thread"], env, log
    )


def _state(run_id):
    db.session.rollback()  # a fresh read each time; no transaction held meanwhile
    statuses = db.session.scalars(
        sa.select(Certificate.status).where(Certificate.run_id == run_id)
    ).all()
    job = db.session.scalar(sa.select(CertificateJob).where(CertificateJob.run_id == run_id))
    result = (
        sum(s == CertificateStatus.VALID for s in statuses),
        len(statuses),
        job and job.status,
    )
    db.session.rollback()
    return result


def _wait(run_id, condition, timeout, consumer, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(run_id)
        if condition(*state):
            return state
        if consumer.process.poll() is not None:
            break
        time.sleep(0.03)
    pytest.fail(
        f"state {_state(run_id)} after {timeout}s; consumer log:\n{log.read_text()[-3000:]}"
    )


def test_killed_consumer_resumes_and_issues_each_certificate_exactly_once(
    app, worker_env, tmp_path
):
    world = finished_run(LEARNERS)
    run_id = world.run.id
    db.session.commit()
    log = tmp_path / "consumer.log"
    queued = subprocess.run(
        [
            str(BIN / "flask"),
            "certificates",
            "issue",
            str(run_id),
            "--background",
            "--format",
            "pdf",
        ],
        cwd=ROOT,
        env=worker_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert queued.returncode == 0, queued.stderr
    assert "queued" in queued.stdout

    kills = []
    started = time.monotonic()
    for kill_after in (6, 20):
        consumer = start_consumer(worker_env, log)
        state = _wait(run_id, lambda valid, _n, _s, k=kill_after: valid >= k, 120, consumer, log)
        consumer.kill()
        kills.append(_state(run_id))
        print("killed at", round(time.monotonic() - started, 1), kills[-1])
        assert kills[-1][0] < LEARNERS, "the job finished before the kill: make it longer"
        assert kills[-1][2] == JobStatus.RUNNING
        del state
        time.sleep(LEASE_SECONDS + 0.5)  # the dead worker's leases run out

    consumer = start_consumer(worker_env, log)
    try:
        _wait(run_id, lambda _v, _n, status: status == JobStatus.DONE, 180, consumer, log)
        print("done at", round(time.monotonic() - started, 1))
    finally:
        consumer.stop()
        print("stopped at", round(time.monotonic() - started, 1))

    db.session.rollback()
    certificates = db.session.scalars(
        sa.select(Certificate).where(Certificate.run_id == run_id)
    ).all()
    assert len(certificates) == LEARNERS
    assert sorted(c.person_id for c in certificates) == sorted(p.id for p in world.people)
    assert {c.status for c in certificates} == {CertificateStatus.VALID}
    assert len({c.number for c in certificates}) == LEARNERS
    public_key = signing.public_key()
    for certificate in certificates:
        path = storage.certificate_file(certificate.file_name)
        data = path.read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
        assert signing.verify(certificate.token, public_key)["no"] == certificate.number
    assert list(storage.storage_dir().rglob("*.tmp")) == []
    job = db.session.scalar(sa.select(CertificateJob).where(CertificateJob.run_id == run_id))
    assert (job.status, job.done, job.total) == (JobStatus.DONE, LEARNERS, LEARNERS)
    assert job.attempts >= 2  # started, then resumed (the sweep may finish certificates first)
    from pypdf import PdfReader

    assert len(PdfReader(storage.bundle_file(job.output_name)).pages) == LEARNERS
    print("valid at each kill:", [k[0] for k in kills])

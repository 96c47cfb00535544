"""Faults the app must come through by itself, losing nothing and writing nothing by halves:
a web worker killed mid-request, a database locked past the busy timeout, a disk that fills
while a PDF is written, and the queue's consumer killed mid-job."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from huey import SqliteHuey

from app.auth.roles import Role
from app.certificates import pipeline, services, signing, storage
from app.certificates.models import Certificate, CertificateEvent, CertificateStatus, EventKind
from app.enrollment.models import EnrollmentSource
from app.enrollment.services import enrol
from app.errors import is_busy
from app.extensions import db
from app.queue import NAME as QUEUE_NAME
from app.queue import huey
from app.quizzes.models import Attempt, AttemptSlot, AttemptState
from app.quizzes.services import start_attempt
from app.timeutil import utcnow
from tests.certificates.helpers import finished_run, write_transaction
from tests.conftest import create_run, create_user, login
from tests.processes import ChildProcess
from tests.quizzes.factories import make_bank, make_quiz
from tests.resilience import mix

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LEASE_SECONDS = 2


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _marker_pid(path: Path) -> int | None:
    return path.is_file() and path.read_text() and int(path.read_text())


# a. A gunicorn worker killed in the middle of a request ----------------------------------


def _marks(world, n: int) -> list[dict]:
    now = datetime.now(UTC).replace(tzinfo=None)
    pairs = [(s, p) for s in world.session_ids for p in world.person_ids][:n]
    return [
        {
            "client_id": uuid.uuid4().hex,
            "session_id": s,
            "person_id": p,
            "status": "present",
            "marked_at": (now + timedelta(milliseconds=i)).isoformat() + "Z",
            "channel": "offline_sync",
        }
        for i, (s, p) in enumerate(pairs)
    ]


def _in_background(call) -> tuple[threading.Thread, dict]:
    outcome = {}

    def target():
        try:
            outcome["response"] = call()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test looks at
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _kill_worker(server, marker: Path) -> int:
    pid = _wait_for(lambda: _marker_pid(marker), 60, marker.name)
    os.kill(pid, signal.SIGKILL)
    return pid


def _replaced(server, killed: int, workers: int):
    return _wait_for(
        lambda: (lambda now: killed not in now and len(now) == workers and now)(server.workers()),
        60,
        "the master to replace the killed worker",
    )


def test_killed_web_worker_is_replaced_and_its_write_is_all_or_nothing(world_url, tmp_path):
    world = mix.build_world(
        world_url,
        tmp_path / "world",
        trainers=1,
        learners=1,
        others=30,
        sessions=2,
    )
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {
        **world.env(),
        # The 26th mark of a batch, and the first PDF rendered, stop for the kill.
        "SLOW_CALLS": "app.attendance.services:record_mark@25,app.certificates.render:certificate_pdf",
        "SLOW_MARKER_DIR": str(markers),
    }
    config = Path(__file__).with_name("gunicorn_slow.py")
    log = tmp_path / "gunicorn.log"
    with mix.Server("wsgi:app", env, log, workers=2, config=config) as server:
        server.wait_ready()
        trainer, learner = mix.Browser(server.port), mix.Browser(server.port)
        trainer.sign_in(world.trainers[0])
        learner.sign_in(world.learners[0])

        # A batch of 50 marks, its worker killed after 25 were written in its transaction.
        batch = _marks(world, 50)
        thread, outcome = _in_background(
            lambda: trainer.post_json("/api/attendance/marks", {"marks": batch})
        )
        killed = _kill_worker(server, markers / "record_mark")
        thread.join(30)
        assert "error" in outcome, outcome  # the phone got no answer, so it keeps the marks
        assert _stored_marks(world.url, batch) == 0  # none of the 25 written survived
        _replaced(server, killed, 2)
        response, data = trainer.post_json("/api/attendance/marks", {"marks": batch})
        assert response.status == 200
        assert all(r["ok"] for r in json.loads(data)["results"])
        assert _stored_marks(world.url, batch) == len(batch)

        # A certificate download whose PDF is rendered again (the file went missing),
        # its worker killed while rendering: no file, no download recorded; then a retry.
        certificate_id = world.certificates[world.learners[0]]
        path = _certificate_path(world, certificate_id)
        path.unlink()
        url = f"/certificates/{certificate_id}/download"
        thread, outcome = _in_background(lambda: learner.get(url))
        killed = _kill_worker(server, markers / "certificate_pdf")
        thread.join(30)
        assert "error" in outcome, outcome
        assert not path.exists()
        assert _downloads(world.url, certificate_id) == 0
        _replaced(server, killed, 2)
        response, data = learner.get(url)
        assert response.status == 200
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
        assert path.read_bytes() == data
        assert _downloads(world.url, certificate_id) == 1
        assert [p.name for p in path.parent.glob(".*.tmp")] == []
        response, _ = learner.get("/")
        assert response.status == 200


def _scalar(url: str, query):
    engine = sa.create_engine(mix.sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            return connection.scalar(query)
    finally:
        engine.dispose()


def _stored_marks(url: str, batch: list[dict]) -> int:
    from app.attendance.models import AttendanceMark

    ids = [m["client_id"] for m in batch]
    return _scalar(url, sa.select(sa.func.count()).where(AttendanceMark.client_id.in_(ids)))


def _downloads(url: str, certificate_id: int) -> int:
    return _scalar(
        url,
        sa.select(sa.func.count()).where(
            CertificateEvent.certificate_id == certificate_id,
            CertificateEvent.kind == EventKind.DOWNLOADED,
        ),
    )


def _certificate_path(world, certificate_id: int) -> Path:
    name = _scalar(
        world.url, sa.select(Certificate.file_name).where(Certificate.id == certificate_id)
    )
    return world.folder / "certificates" / name


# b. A database locked for longer than the busy timeout -----------------------------------


@pytest.fixture
def short_lock_wait(app):
    """Requests give up waiting for a lock after 300 ms (new pooled connections read it)."""
    saved = {k: app.config[k] for k in ("SQLITE_BUSY_TIMEOUT_MS", "DATABASE_LOCK_TIMEOUT_MS")}
    app.config.update(SQLITE_BUSY_TIMEOUT_MS=300, DATABASE_LOCK_TIMEOUT_MS=300)
    db.session.remove()
    db.engine.dispose()
    yield
    app.config.update(saved)
    db.session.remove()
    db.engine.dispose()


class Locker:
    """Another connection holding a write lock: the whole database on SQLite (BEGIN
    IMMEDIATE), the attempt's question rows on PostgreSQL (SELECT … FOR UPDATE), so there the
    request's first write (the attempt's row) goes through and its second one waits."""

    def __init__(self, attempt_id: int):
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            self.connection = sqlite3.connect(url.database, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self.connection = psycopg.connect(
                url.set(drivername="postgresql").render_as_string(False)
            )
            self.connection.execute(
                "SELECT id FROM attempt_slot WHERE attempt_id = %s FOR UPDATE", (attempt_id,)
            )

    def release(self):
        self.connection.rollback()
        self.connection.close()


def test_locked_database_answers_503_try_again_and_saves_nothing(app, client, short_lock_wait):
    run = create_run()
    quiz = make_quiz(run, make_bank(run.course), shuffle_questions=False)
    learner = create_user(Role.LEARNER)
    learner.locale = "sq"
    enrol(run=run, person=learner.person, by=None, now=utcnow(), source=EnrollmentSource.MANAGER)
    attempt = start_attempt(quiz=quiz, person=learner.person, now=utcnow())
    db.session.commit()
    attempt_id = attempt.id
    login(client, learner)
    db.session.commit()  # the test's own session holds nothing while the lock is taken

    answer = {"position": 4, "values": {"q4": ["quetzalcoatl"]}}
    locker = Locker(attempt_id)
    try:
        began = time.monotonic()
        response = client.post(f"/attempts/{attempt_id}/answers", json=answer)
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert response.get_json()["message"]
        page = client.post(
            f"/attempts/{attempt_id}/submit", data={"slot": "4", "q4": "quetzalcoatl"}
        )
        assert time.monotonic() - began < 5  # the timeouts from the config applied
        assert page.status_code == 503
        assert page.headers["Retry-After"].isdigit()
        html = page.get_data(as_text=True)
        assert "Ju lutemi provoni përsëri" in html  # "Please try again", in Albanian
        assert 'lang="sq"' in html
    finally:
        locker.release()

    db.session.rollback()
    stored = db.session.get(Attempt, attempt_id)
    assert stored.state == AttemptState.OPEN and stored.last_saved_at is None
    assert db.session.scalars(
        sa.select(AttemptSlot.response).where(AttemptSlot.attempt_id == attempt_id)
    ).all() == [None] * len(stored.slots)
    db.session.rollback()
    # Once the lock is gone the same requests go through.
    assert client.post(f"/attempts/{attempt_id}/answers", json=answer).status_code == 200
    response = client.post(f"/attempts/{attempt_id}/submit", data={"slot": "4"})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Attempt, attempt_id).state == AttemptState.SUBMITTED


def test_other_database_errors_stay_500(app, client, monkeypatch):
    user = create_user(Role.LEARNER)
    login(client, user)

    def broken(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr("app.courses.routes.render_template", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/courses")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


def test_busy_errors_are_told_apart():
    import psycopg.errors

    def error(original):
        return sa.exc.OperationalError("UPDATE x", {}, original)

    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5
    io = sqlite3.OperationalError("disk I/O error")
    io.sqlite_errorcode = 10
    assert is_busy(error(locked))
    assert not is_busy(error(io))
    assert is_busy(error(psycopg.errors.LockNotAvailable()))
    assert is_busy(error(psycopg.errors.QueryCanceled()))
    assert not is_busy(error(psycopg.errors.AdminShutdown()))


# c. The disk fills while a certificate PDF is written ------------------------------------

FULL_DISK = """
import errno, resource, signal, sys
from app import create_app
from app.certificates import pipeline, storage

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so the write fails with EFBIG
write = storage.write_atomic


def on_a_full_disk(path, data):
    # The limit covers the PDF's file only, not the database's files in this process.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        write(path, data)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


storage.write_atomic = on_a_full_disk
with create_app().app_context():
    try:
        pipeline.complete_certificate(int(sys.argv[1]))
    except OSError as error:
        print("errno", errno.errorcode[error.errno])
        sys.exit(3)
"""


def _process_env(app, tmp_path) -> dict:
    signing.private_key()  # made now, so other processes sign with the same key
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
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HUEY_IMMEDIATE", None)
    return env


def _certificates(run_id: int) -> list[Certificate]:
    db.session.rollback()
    return db.session.scalars(
        sa.select(Certificate).where(Certificate.run_id == run_id).order_by(Certificate.id)
    ).all()


def _issued_events(certificate_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            CertificateEvent.certificate_id == certificate_id,
            CertificateEvent.kind == EventKind.ISSUED,
        )
    )


def test_full_disk_while_writing_a_pdf_leaves_no_partial_file_and_a_retry_succeeds(app, tmp_path):
    world = finished_run(1)
    services.claim_due_certificates(world.run, now=utcnow(), by=None)
    db.session.commit()
    (certificate,) = _certificates(world.run.id)
    certificate_id, path = certificate.id, storage.certificate_file(certificate.file_name)
    # Numbers start again in each test's database, but the instance folder is the session's:
    # an earlier test may have left a PDF under this number.
    path.unlink(missing_ok=True)
    db.session.commit()

    failed = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(certificate_id)],
        cwd=ROOT,
        env=_process_env(app, tmp_path),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert failed.returncode == 3, failed.stderr[-3000:]
    assert "errno EFBIG" in failed.stdout  # the task fails, so the queue reports and retries it
    (certificate,) = _certificates(world.run.id)
    assert certificate.status == CertificateStatus.PENDING  # verification does not show it
    assert not path.exists()
    assert list(storage.storage_dir().rglob("*.tmp")) == []
    assert _issued_events(certificate_id) == 0

    write_transaction()
    later = utcnow() + timedelta(seconds=LEASE_SECONDS + 1)  # the failed worker's lease is over
    assert pipeline.complete_certificate(certificate_id, now=later)
    (certificate,) = _certificates(world.run.id)
    assert certificate.status == CertificateStatus.VALID
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert _issued_events(certificate_id) == 1


# d. The queue's consumer killed in the middle of a job -----------------------------------


def test_consumer_killed_mid_job_completes_it_after_restart_exactly_once(app, tmp_path):
    from app.certificates.tasks import complete_run_task

    world = finished_run(2)
    run_id = world.run.id
    services.claim_due_certificates(world.run, now=utcnow(), by=None)
    db.session.commit()
    assert [c.status for c in _certificates(run_id)] == [CertificateStatus.PENDING] * 2
    db.session.commit()
    env = _process_env(app, tmp_path)
    # The task services.issue_due_certificates queues, put in the consumer's queue.
    # (This process's huey runs tasks in place; its serializer and registry are the same.)
    task = complete_run_task.s(run_id)
    queue = SqliteHuey(QUEUE_NAME, filename=env["HUEY_SQLITE_PATH"])
    queue.storage.enqueue(huey.serialize_task(task), task.priority)

    markers = tmp_path / "markers"
    markers.mkdir()
    log = tmp_path / "consumer.log"
    slow = ChildProcess(
        [sys.executable, "-m", "tests.resilience.slow_consumer"],
        {
            **env,
            "SLOW_CALLS": "app.certificates.render:certificate_pdf",
            "SLOW_MARKER_DIR": str(markers),
        },
        log,
    )
    try:
        _wait_for(lambda: _marker_pid(markers / "certificate_pdf"), 90, "a render to start")
    finally:
        slow.kill()  # in the middle of rendering, its certificate leased to the dead worker
    statuses = [c.status for c in _certificates(run_id)]
    db.session.commit()
    assert CertificateStatus.PENDING in statuses, statuses

    time.sleep(LEASE_SECONDS + 0.5)  # the dead worker's lease runs out
    consumer = ChildProcess(
        [str(BIN / "huey_consumer"), "app.tasks.huey", "-w", "1", "-k", "thread"], env, log
    )
    try:

        def all_valid():
            statuses = [c.status for c in _certificates(run_id)]
            db.session.commit()
            return statuses == [CertificateStatus.VALID] * 2

        _wait_for(all_valid, 90, f"the certificates; consumer log:\n{log.read_text()[-2000:]}")
    finally:
        consumer.stop()

    certificates = _certificates(run_id)
    assert sorted(c.person_id for c in certificates) == sorted(p.id for p in world.people)
    assert len({c.number for c in certificates}) == 2
    for certificate in certificates:
        assert _issued_events(certificate.id) == 1
        data = storage.certificate_file(certificate.file_name).read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert list(storage.storage_dir().rglob("*.tmp")) == []

"""A backup taken while the app writes restores into a new installation, whole and consistent.

Runs on the suite's database: SQLite files, or PostgreSQL databases created for the test on
the TEST_DATABASE_URL server (never the shared test database itself).
"""

import sqlite3
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from app.attendance.models import AttendanceStatus, Channel, CourseSession
from app.attendance.services import record_mark
from app.auth.models import User
from app.certificates import signing, storage
from app.extensions import db
from tests.backup.conftest import (
    ON_POSTGRES,
    backup,
    counts,
    manifest_counts,
    manifest_of,
    populate,
    restore,
    tree_digest,
)


class Writer(threading.Thread):
    """Records attendance marks through the service, one transaction each, until stopped."""

    def __init__(self, app, ids):
        super().__init__(daemon=True)
        self.app, self.ids = app, ids
        self.stop = threading.Event()
        self.commits: list[float] = []
        self.error: BaseException | None = None

    def run(self):
        try:
            with self.app.app_context():
                trainer = db.session.get(User, self.ids["trainer"])
                learners = self.ids["learners"]
                i = 0
                while not self.stop.is_set():
                    record_mark(
                        session=db.session.get(CourseSession, self.ids["session"]),
                        person_id=learners[i % len(learners)],
                        status=AttendanceStatus.PRESENT if i % 2 else AttendanceStatus.LATE,
                        remark=f"mark {i}",
                        marked_at=None,
                        by=trainer,
                        channel=Channel.ROLL_CALL,
                        client_id=f"writer-{i}",
                    )
                    db.session.commit()
                    self.commits.append(time.monotonic())
                    i += 1
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - the test reports it
            self.error = error


def _marks(app) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM attendance_mark"))


def test_backup_while_writing_restores_into_a_new_installation(installation, tmp_path):
    source = installation("source")
    ids = populate(source)
    writer = Writer(source, ids)
    writer.start()
    try:
        while len(writer.commits) < 20 and writer.is_alive():
            time.sleep(0.01)
        started = time.monotonic()
        archive = backup(source, "--output", str(tmp_path / "out"))
        finished = time.monotonic()
        written_before = len(writer.commits)
        while len(writer.commits) < written_before + 10 and writer.is_alive():
            time.sleep(0.01)
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    during = [t for t in writer.commits if started <= t <= finished]
    assert during, "the writer committed nothing while the backup ran"

    manifest = manifest_of(archive)
    expected = manifest_counts(manifest)
    # The snapshot lies strictly inside the writing: it holds some marks, not all.
    assert 20 <= expected["attendance_mark"] < _marks(source)
    assert manifest["app_revision"] is not None
    assert manifest["database"]["kind"] == ("postgresql" if ON_POSTGRES else "sqlite")

    target = installation("target")
    result = restore(target, archive)
    assert result.exit_code == 0, result.output
    assert "row counts checked" in result.output

    assert counts(target) == expected
    with target.app_context():
        with db.engine.connect() as conn:
            # Each mark and the attendance row it set were written in one transaction: a
            # torn snapshot would hold an attendance row whose mark is missing.
            orphans = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM attendance a "
                    "LEFT JOIN attendance_mark m ON m.client_id = a.client_id "
                    "WHERE a.session_id = :session AND m.id IS NULL"
                ),
                {"session": ids["session"]},
            )
            assert orphans == 0
            if conn.dialect.name == "sqlite":
                path = db.engine.url.database
            else:
                # The foreign keys were created after the data was loaded, so they hold.
                assert conn.scalar(
                    sa.text("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
                )
                path = None
        target_key = signing.key_path(target)
        target_certificates = storage.storage_dir()
    if path:
        check = sqlite3.connect(path)
        try:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert check.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            check.close()

    # The instance files come back byte for byte.
    assert target_key.read_bytes() == ids["key"].read_bytes()
    assert target_key.stat().st_mode & 0o777 == 0o600
    logo = ids["logo"]
    restored_logo = Path(target.instance_path) / logo.relative_to(source.instance_path)
    assert restored_logo.read_bytes() == logo.read_bytes()
    pdfs = tree_digest(ids["certificates"])
    assert any(name.endswith(".pdf") for name in pdfs)
    assert tree_digest(target_certificates) == pdfs
    # The task queue and earlier backups stay out of it.
    assert not any("huey" in name or "backups/" in name for name in manifest["files"])

"""A disk that fills up while the backup is written leaves no archive and says why.

The full disk is real for the process that writes: `flask backup` runs in a child process
whose file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes the kernel refuse every
write past the limit with EFBIG, the way a full disk refuses it with ENOSPC, in the database
snapshot (SQLite's backup API, or the pg_dump it starts, which inherits the limit) or in the
archive itself. A second test raises ENOSPC itself in the middle of the archive.
"""

import errno
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app.backup import services
from app.certificates import signing, storage
from app.extensions import db
from app.places.services import seed_places
from tests.backup.conftest import backup, counts, invoke, manifest_of

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import resource, signal, sys
from pathlib import Path
from tests.backup.conftest import make_app

limit, instance, url, output = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
app = make_app(instance, url)
with app.app_context():
    runner = app.test_cli_runner()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    result = runner.invoke(args=["backup", "--output", output])
sys.stdout.write(result.output)
sys.exit(result.exit_code)
"""


def _site(installation):
    app = installation("site")
    with app.app_context():
        upgrade()
        seed_places()
        signing.private_key(app)
        # A bulk bundle that does not compress: the archive outgrows the database snapshot.
        bundle = storage.bundle_file("run-1.zip")
        bundle.parent.mkdir(parents=True)
        bundle.write_bytes(secrets.token_bytes(4 * 1024 * 1024))
        db.session.commit()
        db.session.remove()
    return app


@pytest.mark.parametrize("stage", ["database", "archive"])
def test_a_full_disk_leaves_no_archive(installation, tmp_path, stage):
    app = _site(installation)
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    reference = manifest_of(backup(app, "--output", str(tmp_path / "reference.tar.gz")))
    database_size = reference["files"][reference["database"]["file"]]["size"]
    limit = 8 * 1024 if stage == "database" else database_size + 512 * 1024
    before = counts(app)
    out = tmp_path / "out"
    out.mkdir()
    # Holding a connection keeps the child from being the last one on a SQLite file, which
    # would fold the write-ahead log into the database file under the child's limit.
    with app.app_context(), db.engine.connect() as keep:
        keep.execute(sa.text("SELECT 1"))
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(limit), app.instance_path, url, str(out)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert child.returncode == 1, child.stdout + child.stderr
    message = child.stdout
    assert "No backup was written" in message, message
    if stage == "archive":
        assert "File too large" in message, message
    assert list(out.iterdir()) == []  # no archive, no work folder
    assert counts(app) == before


def test_no_space_in_the_middle_of_the_archive(installation, tmp_path, monkeypatch):
    app = _site(installation)
    real_add = services.add_file
    added = []

    def add_until_full(tar, name, path):
        if added:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        added.append(name)
        return real_add(tar, name, path)

    monkeypatch.setattr(services, "add_file", add_until_full)
    out = tmp_path / "out"
    out.mkdir()
    result = invoke(app, "backup", "--output", str(out))
    assert result.exit_code == 1
    assert "No space left on device" in result.output
    assert "No backup was written" in result.output
    assert len(added) == 1 and added[0].startswith("database/")  # it failed halfway
    assert list(out.iterdir()) == []

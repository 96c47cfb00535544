"""A restore checks everything before it changes anything: damaged archives, a database that
holds data, another kind of database, a newer schema and a database in use are refused, and
the installation is left exactly as it was."""

import json
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app.auth.roles import Role
from app.backup import postgres
from app.certificates import signing, storage
from app.certificates.render import LOGO_FOLDER
from app.extensions import db
from app.places.services import seed_places
from tests.backup.conftest import (
    ON_POSTGRES,
    backup,
    counts,
    manifest_counts,
    manifest_of,
    repack,
    restore,
    tree_digest,
)
from tests.conftest import create_user


def _site(installation):
    """An installation with a few rows, a signing key, a logo and a certificate file."""
    app = installation("site")
    with app.app_context():
        upgrade()
        seed_places()
        create_user(Role.ADMIN)
        signing.private_key(app)
        logo = Path(app.instance_path, LOGO_FOLDER, "PRG-1.svg")
        logo.parent.mkdir(parents=True)
        logo.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
        pdf = storage.certificate_file("2026/AK-2026-000001.pdf")
        pdf.parent.mkdir(parents=True)
        pdf.write_bytes(b"%PDF-1.7 first")
        db.session.commit()
        db.session.remove()
    return app


def _change_after_backup(app):
    """What happens between the backup and the restore: a restore must undo it."""
    with app.app_context():
        create_user(Role.LEARNER)
        storage.certificate_file("2026/AK-2026-000002.pdf").write_bytes(b"%PDF-1.7 later")
        db.session.remove()


def _state(app) -> tuple:
    return counts(app), tree_digest(Path(app.instance_path))


def _refused(app, archive, *args, expect: str):
    before = _state(app)
    result = restore(app, archive, *args)
    assert result.exit_code != 0
    assert expect in result.output, result.output
    assert "nothing was changed" in result.output.lower()
    assert _state(app) == before
    assert not list(Path(app.instance_path).glob(".restore-*"))
    return result


@pytest.mark.parametrize("where", [0.02, 0.3, 0.6, 0.95, -1])
def test_an_archive_with_one_byte_changed_is_refused(installation, tmp_path, where):
    app = _site(installation)
    archive = backup(app, "--output", str(tmp_path / "good.tar.gz"))
    _change_after_backup(app)
    data = bytearray(archive.read_bytes())
    data[int(len(data) * where) if where != -1 else -1] ^= 0x10
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    _refused(app, damaged, "--yes", expect="is damaged")


def _tamper_logo(name, data):
    return b"<svg/>" if name.endswith("PRG-1.svg") else data


def _drop_logo(name, data):
    return None if name.endswith("PRG-1.svg") else data


def _break_manifest(name, data):
    return b"{not json" if name == "manifest.json" else data


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (_tamper_logo, "does not match its checksum"),
        (_drop_logo, "differ from the manifest"),
        (_break_manifest, "not valid JSON"),
    ],
)
def test_an_archive_that_differs_from_its_manifest_is_refused(
    installation, tmp_path, change, expect
):
    app = _site(installation)
    archive = backup(app, "--output", str(tmp_path / "good.tar.gz"))
    _change_after_backup(app)
    tampered = tmp_path / "tampered.tar.gz"
    repack(archive, tampered, change)
    _refused(app, tampered, "--yes", expect=expect)


def test_a_database_that_holds_data_is_replaced_only_with_yes(installation, tmp_path):
    app = _site(installation)
    archive = backup(app, "--output", str(tmp_path / "good.tar.gz"))
    expected = manifest_counts(manifest_of(archive))
    _change_after_backup(app)
    _refused(app, archive, expect="--yes")

    result = restore(app, archive, "--yes")
    assert result.exit_code == 0, result.output
    assert counts(app) == expected
    with app.app_context():
        certificates = storage.storage_dir()
    # The PDF made after the backup is gone: its number is free again in the database.
    assert sorted(tree_digest(certificates)) == ["2026/AK-2026-000001.pdf"]


def test_the_archive_is_private_and_named_by_date_in_the_instance_folder(installation):
    app = _site(installation)
    first = backup(app)
    assert first.parent == Path(app.instance_path, "backups")
    assert first.name.startswith("akademia-") and first.name.endswith(".tar.gz")
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    second = backup(app, "--output", str(first.parent / "second.tar.gz"))
    # The backups folder is never backed up itself, nor left with work files.
    assert not any("backups" in name for name in manifest_of(second)["files"])
    assert sorted(p.name for p in first.parent.iterdir()) == sorted([first.name, "second.tar.gz"])


def test_an_existing_archive_is_not_overwritten(installation, tmp_path):
    app = _site(installation)
    target = tmp_path / "mine.tar.gz"
    target.write_bytes(b"keep me")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "--output", str(target)])
    assert result.exit_code != 0
    assert "exists already" in result.output
    assert target.read_bytes() == b"keep me"


def _with_manifest(archive, target, **changes):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        for key, value in changes.items():
            if key == "kind":
                manifest["database"]["kind"] = value
            else:
                manifest[key] = value
        return json.dumps(manifest).encode()

    repack(archive, target, change)


def test_a_backup_of_the_other_kind_of_database_is_refused(installation, tmp_path):
    app = _site(installation)
    archive = backup(app, "--output", str(tmp_path / "good.tar.gz"))
    other = tmp_path / "other.tar.gz"
    _with_manifest(archive, other, kind="sqlite" if ON_POSTGRES else "postgresql")
    _refused(app, other, "--yes", expect="restoring across kinds is not supported")


def test_a_backup_from_a_newer_schema_is_refused(installation, tmp_path):
    app = _site(installation)
    archive = backup(app, "--output", str(tmp_path / "good.tar.gz"))
    newer = tmp_path / "newer.tar.gz"
    _with_manifest(archive, newer, app_revision="ffffffffffff")
    _refused(app, newer, "--yes", expect="made by a newer version")


def test_a_database_in_use_is_not_replaced(installation, tmp_path, monkeypatch):
    app = _site(installation)
    archive = backup(app, "--output", str(tmp_path / "good.tar.gz"))
    _change_after_backup(app)
    before = _state(app)
    with app.app_context():
        url = db.engine.url
    if ON_POSTGRES:
        monkeypatch.setattr(postgres, "LOCK_TIMEOUT", "500ms")
        holder = sa.create_engine(url)
        conn = holder.connect()
        conn.execute(sa.text('LOCK TABLE "user" IN ACCESS SHARE MODE'))
    else:
        conn = sqlite3.connect(url.database)
        conn.execute("BEGIN")
        conn.execute('SELECT count(*) FROM "user"').fetchone()
    try:
        result = restore(app, archive, "--yes")
    finally:
        conn.close()
        if ON_POSTGRES:
            holder.dispose()
    assert result.exit_code != 0
    assert "Nothing was changed" in result.output or "nothing was changed" in result.output
    assert "Stop the app" in result.output, result.output
    assert _state(app) == before

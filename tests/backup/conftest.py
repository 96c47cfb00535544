"""Installations of their own for the backup tests: each has its own instance folder and its
own database (a SQLite file, or on PostgreSQL a database created on the TEST_DATABASE_URL
server and dropped afterwards), so the shared test database is never restored over."""

import hashlib
import io
import json
import os
import secrets
import tarfile
from pathlib import Path

import pytest
import segno
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.auth.roles import Role
from app.certificates import signing, storage
from app.certificates.render import LOGO_FOLDER
from app.extensions import db
from app.places.services import seed_places
from tests.attendance.helpers import add_session, run_with_learners
from tests.certificates.helpers import finished_run, issue_all
from tests.conftest import create_user

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


@pytest.fixture
def new_database(tmp_path):
    """make(label) -> the URL of a new, empty database."""
    base = os.environ.get("TEST_DATABASE_URL")
    made: list[str] = []
    admin = sa.create_engine(sa.make_url(base), isolation_level="AUTOCOMMIT") if base else None

    def make(label: str) -> str:
        if admin is None:
            return f"sqlite:///{tmp_path / f'{label}.db'}"
        name = f"akademia_backup_{label}_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return admin.url.set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in made:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(instance: Path, url: str):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "backup-test-secret-" + "y" * 40,
            "MAIL_BACKEND": "memory",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )
    app.instance_path = str(instance)
    instance.mkdir(parents=True, exist_ok=True)
    return app


@pytest.fixture
def installation(tmp_path, new_database):
    """make(label) -> a new app with its own instance folder and empty database."""
    apps = []

    def make(label: str):
        app = make_app(tmp_path / f"{label}-instance", new_database(label))
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def populate(app) -> dict:
    """A migrated database with issued certificates (and their PDFs), a programme logo, the
    signing key, and a run whose session takes marks; the ids the tests need."""
    with app.app_context():
        upgrade()
        seed_places()
        db.session.commit()
        world = finished_run(2)
        logo = Path(app.instance_path, LOGO_FOLDER, f"{world.run.programme.code}.png")
        logo.parent.mkdir(parents=True, exist_ok=True)
        segno.make(secrets.token_hex(16)).save(logo, kind="png", scale=4)
        assert issue_all(world.run) == 2
        run, learners = run_with_learners(4)
        session = add_session(run)
        trainer = create_user(Role.TRAINER, programme=run.programme)
        ids = {
            "session": session.id,
            "learners": [p.id for p in learners],
            "trainer": trainer.id,
            "logo": logo,
            "certificates": storage.storage_dir(),
            "key": signing.key_path(app),
        }
        assert ids["key"].is_file() and sorted(ids["certificates"].rglob("*.pdf"))
        db.session.commit()
        db.session.remove()
    return ids


def invoke(app, *args):
    # The CLI runs in the current app context if there is one (the suite keeps its own app's
    # open): push this installation's.
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def backup(app, *args) -> Path:
    result = invoke(app, "backup", *args)
    assert result.exit_code == 0, result.output
    return Path(result.output.split(" (")[0].strip())


def restore(app, archive: Path, *args):
    return invoke(app, "restore", str(archive), *args)


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def counts(app) -> dict:
    """{table: rows} as the manifest names them, read through the app's engine."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = conn.scalars(
                sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ).all()
            return {
                n: conn.scalar(sa.text(f'SELECT count(*) FROM "{n}"'))  # noqa: S608
                for n in names
            }
        names = conn.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).all()
        return {
            n: conn.scalar(sa.text(f'SELECT count(*) FROM public."{n}"'))  # noqa: S608
            for n in names
        }


def manifest_counts(manifest: dict) -> dict:
    return {t["name"]: t["rows"] for t in manifest["tables"]}


def tree_digest(folder: Path) -> dict:
    """{relative path: sha256} of every file under the folder."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def repack(archive: Path, target: Path, change) -> None:
    """Copy an archive member by member; change(name, data) may return other bytes, or
    None to leave the member out."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))

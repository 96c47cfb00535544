"""Migrations build the schema from empty on this database, and match the models."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = sa.make_url(base)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = "akademia_migrations"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_matches_models(empty_database_url, tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True, "SECRET_KEY": "m" * 40}
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run `make migrate m=...`: {diff}"
        downgrade(revision="base")
        upgrade()
        db.session.remove()
        db.engine.dispose()

"""Migrations build the schema from empty on this database, and match the models."""

import os
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
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


# --- Downgrade and upgrade again with data in every table ---------------------------------


def _value(column: sa.Column, n: int):
    """A valid value of the column's type for row n (an integer 1 satisfies every CHECK here)."""
    kind = column.type
    if isinstance(kind, sa.Enum):
        return kind.enums[0]
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 1, 9, 0)
    if isinstance(kind, sa.Date):
        return date(2026, 1, 1)
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.LargeBinary):
        return b"x"
    if isinstance(kind, (sa.Integer, sa.Numeric, sa.Float)):
        return 1
    if isinstance(kind, (sa.String, sa.Text)):
        return f"v{n}"[: getattr(kind, "length", None) or 20]
    raise AssertionError(f"add a sample value for {column.table.name}.{column.name}: {kind!r}")


def fill_every_table(connection, metadata) -> None:
    """One valid row in every table of the models, each foreign key pointing at a real row."""
    ids: dict[str, int] = {}
    for table in metadata.sorted_tables:
        row = {}
        for column in table.columns:
            if column is table.autoincrement_column:
                continue
            targets = [fk.column.table.name for fk in column.foreign_keys]
            if targets and targets[0] == table.name:
                continue  # a row pointing at itself adds nothing
            if targets:
                row[column.name] = ids[targets[0]]
            elif not column.nullable or column.server_default is None:
                row[column.name] = _value(column, len(ids))
        result = connection.execute(table.insert().values(**row))
        key = result.inserted_primary_key
        ids[table.name] = key[0] if key else 1


def row_counts(connection) -> dict[str, int]:
    names = [n for n in sa.inspect(connection).get_table_names() if n != "alembic_version"]
    return {
        name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
        for name in names
    }


def test_each_migration_downgrades_and_upgrades_again_keeping_every_row(empty_database_url):
    """Step down from head one revision at a time: undoing a migration and applying it again
    keeps every row of every table that existed before it."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True, "SECRET_KEY": "m" * 40}
    )
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        steps = [(r.revision, r.down_revision) for r in script.walk_revisions()]  # head first
        upgrade()
        with db.engine.begin() as conn:
            fill_every_table(conn, db.metadata)
        for revision, previous in steps:
            with db.engine.connect() as conn:
                before = row_counts(conn)
            assert all(before.values()), f"at {revision} some tables are empty: {before}"
            downgrade(revision=previous or "base")
            with db.engine.connect() as conn:
                below = row_counts(conn)
            upgrade(revision=revision)
            with db.engine.connect() as conn:
                after = row_counts(conn)
            kept = {name: after[name] for name in below}
            assert kept == {name: before[name] for name in below}, (
                f"downgrading {revision} and upgrading again lost rows"
            )
            assert below == {name: before[name] for name in below}, (
                f"downgrading {revision} lost rows of tables it keeps"
            )
            downgrade(revision=previous or "base")
        upgrade()
        db.session.remove()
        db.engine.dispose()

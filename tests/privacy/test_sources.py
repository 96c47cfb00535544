"""The list of personal-data sources covers every table that refers to a person or account."""

from app.extensions import db
from app.privacy.sources import ACTORS, SOURCES, covered_columns

PERSONAL_TABLES = {"person", "user"}


def _references(metadata=None):
    for table in (metadata or db.metadata).sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name in PERSONAL_TABLES and fk.column.name == "id":
                    yield table.name, column.name


def test_every_reference_to_a_person_or_account_is_a_source_or_an_actor(app):
    missing = sorted(set(_references()) - covered_columns())
    assert missing == [], (
        "These columns refer to a person or an account but app/privacy/sources.py does not "
        f"list them in SOURCES (data about the person) or ACTORS (their work on others): {missing}"
    )


def test_the_lists_name_real_references_only(app):
    # A stale entry (a column renamed or dropped) would hide a missing one.
    references = set(_references()) | {("person", "id"), ("login_failure", "email_key")}
    listed = covered_columns()
    assert listed - references == set()
    assert len({s.key for s in SOURCES}) == len(SOURCES)
    assert len({(a.column.table.name, a.column.name) for a in ACTORS}) == len(ACTORS)


def test_a_new_table_with_a_person_id_fails_the_check(app):
    import sqlalchemy as sa

    metadata = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    sa.Table(
        "badge",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.ForeignKey("person.id")),
    )
    assert set(_references(metadata)) - covered_columns() == {("badge", "person_id")}

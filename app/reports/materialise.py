"""Intermediate results that a report reads many times, computed once into temporary tables.

A full report asks each measure for a total and up to six breakdowns, and several measures
share the same costly inner query (who took part in which run, pre/post test pairs). Without
this, the database recomputes them dozens of times per report. Inside `reused(scope)` such
rows are computed once into temporary tables, private to the connection and dropped at the
end; app/reports/aggregate.py treats each measure's own base rows the same way.
"""

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import sqlalchemy as sa

from app.extensions import db

from .scope import Scope

_numbers = itertools.count()


def _column_type(type_: sa.types.TypeEngine) -> sa.types.TypeEngine:
    # Intermediate rows hold ids, counts and scores only.
    return sa.Integer() if isinstance(type_, sa.Integer) else sa.Float()


def temporary(select: sa.Select, name: str) -> sa.Table:
    """The rows of `select` in a new temporary table (CREATE then INSERT … SELECT, which
    takes bound parameters on every database, unlike CREATE TABLE … AS)."""
    connection = db.session.connection()
    columns = [sa.Column(c.key, _column_type(c.type)) for c in select.selected_columns]
    table = sa.Table(
        f"tmp_report_{name}_{next(_numbers)}", sa.MetaData(), *columns, prefixes=["TEMPORARY"]
    )
    table.create(connection)
    connection.execute(table.insert().from_select([c.key for c in columns], select))
    if "subject_id" in table.c:
        # Breakdowns join each row to its person or place by this column.
        sa.Index(f"{table.name}_subject", table.c.subject_id).create(connection)
    if connection.dialect.name == "postgresql":
        # Autovacuum never analyses temporary tables; without statistics joins go wrong.
        connection.execute(sa.text(f"ANALYZE {table.name}"))
    return table


def shared(scope: Scope, name: str, build: Callable[[], sa.Select]) -> sa.FromClause:
    """Rows many numbers are computed from: inside `reused`, a temporary table filled on
    first use; outside, the query itself."""
    if scope.tables is None:
        return build().subquery()
    if name not in scope.tables:
        scope.tables[name] = temporary(build(), name)
    return scope.tables[name]


@contextmanager
def reused(scope: Scope) -> Iterator[Scope]:
    """The scope, with `shared` rows computed once for everything done inside."""
    reusing = replace(scope, tables={})
    try:
        yield reusing
    except BaseException:
        # The rollback that follows an error removes them (their CREATE is in the transaction).
        reusing.tables.clear()
        raise
    connection = db.session.connection()
    for table in reusing.tables.values():
        table.drop(connection)
    reusing.tables.clear()

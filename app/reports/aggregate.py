"""A measure's total, or its breakdown by one dimension, in one SQL query.

Each value comes with `n`, the number of subjects (or rows) behind it, which decides
whether a cell is small enough to be suppressed in a public report.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from app.attendance.models import CourseSession
from app.extensions import db
from app.people.models import Institution

from .materialise import shared
from .measures import Measure
from .scope import Scope, join_person, join_place, person_dimension, place_dimension

TOTAL = "total"


@dataclass(frozen=True)
class Value:
    value: float | None
    n: int


def _aggregates(measure: Measure, base: sa.Subquery) -> tuple:
    subject = base.c.subject_id
    if measure.aggregate == "distinct":
        count = sa.func.count(sa.distinct(subject))
        return count, count
    rows = sa.func.count()
    if measure.aggregate == "rows":
        return rows, rows
    if measure.aggregate == "sum":
        return sa.func.coalesce(sa.func.sum(base.c.value), 0), sa.func.count(sa.distinct(subject))
    if measure.aggregate == "mean":
        return sa.func.avg(base.c.value), rows
    if measure.aggregate == "share":
        return 100.0 * sa.func.avg(base.c.value), rows
    raise ValueError(f"unknown aggregate {measure.aggregate}")


def _with_dimension(
    measure: Measure, select: sa.Select, base: sa.Subquery, dimension: str, scope: Scope
) -> tuple[sa.Select, sa.ColumnElement]:
    subject = base.c.subject_id
    if measure.subject == "person":
        select = join_person(select, subject)
        return select, person_dimension(dimension, scope.ends_on)
    if measure.subject == "session":
        select = join_place(
            select.join(CourseSession, CourseSession.id == subject), CourseSession.municipality_id
        )
        return select, place_dimension(dimension)
    if measure.subject == "municipality":
        return join_place(select, subject), place_dimension(dimension)
    if measure.subject == "institution":
        select = select.join(Institution, Institution.id == subject)
        if dimension == "institution_type":
            return select, sa.cast(Institution.type, sa.String)
        return join_place(select, Institution.municipality_id), place_dimension(dimension)
    raise ValueError(f"unknown subject {measure.subject}")


def _base(measure: Measure, scope: Scope) -> sa.FromClause:
    return shared(scope, f"base_{measure.key}", lambda: measure.base(scope))


def _number(value) -> float | None:
    return None if value is None else round(float(value), 6)


def compute(measure: Measure, scope: Scope, dimension: str | None = None) -> dict[str, Value]:
    """{TOTAL: Value} without a dimension; {key: Value} per value of the dimension."""
    base = _base(measure, scope)
    value, n = _aggregates(measure, base)
    select = sa.select(value.label("value"), n.label("n")).select_from(base)
    if dimension is None:
        row = db.session.execute(select).one()
        return {TOTAL: Value(_number(row.value), int(row.n or 0))}
    if dimension not in measure.dimensions:
        return {}
    select, key = _with_dimension(measure, select, base, dimension, scope)
    rows = db.session.execute(select.add_columns(key.label("key")).group_by(key)).all()
    return {row.key: Value(_number(row.value), int(row.n)) for row in rows}


def subjects(measure: Measure, scope: Scope, dimension: str | None, key: str | None) -> sa.Select:
    """The ids behind a number (a total or one cell), for drilling down to names."""
    base = _base(measure, scope)
    select = sa.select(base.c.subject_id).select_from(base).distinct()
    if dimension is not None and dimension in measure.dimensions:
        select, column = _with_dimension(measure, select, base, dimension, scope)
        select = select.where(column == key)
    return select.where(base.c.subject_id.is_not(None))

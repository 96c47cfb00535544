"""Numbers computed from reused temporary tables equal those computed straight from the data."""

import sqlalchemy as sa

from app.extensions import db
from app.reports.aggregate import TOTAL, compute, subjects
from app.reports.materialise import reused
from app.reports.measures import MEASURES
from app.reports.scope import Scope
from tests.reports.dataset import NOW, Q1, build


def every_number(scope):
    numbers = {}
    for key, measure in MEASURES.items():
        numbers[key, TOTAL] = compute(measure, scope)
        for dimension in measure.dimensions:
            numbers[key, dimension] = compute(measure, scope, dimension)
    return numbers


def temporary_tables():
    connection = db.session.connection()
    return [name for name in sa.inspect(connection).get_temp_table_names() if "report" in name]


def test_reused_rows_give_the_same_numbers_and_are_dropped(app):
    world = build()
    scope = Scope(world.programme.id, *Q1, threshold=80, now=NOW)
    straight = every_number(scope)
    with reused(scope) as reusing:
        assert every_number(reusing) == straight
        assert reusing.tables, "nothing was materialised"
        assert temporary_tables()
        trained = set(db.session.scalars(subjects(MEASURES["people_trained"], reusing, None, None)))
    assert trained == set(
        db.session.scalars(subjects(MEASURES["people_trained"], scope, None, None))
    )
    assert temporary_tables() == []
    assert scope.tables is None


def test_an_error_inside_leaves_nothing_behind(app):
    world = build()
    scope = Scope(world.programme.id, *Q1, threshold=80, now=NOW)
    try:
        with reused(scope) as reusing:
            compute(MEASURES["people_trained"], reusing)
            raise RuntimeError("stop")
    except RuntimeError:
        db.session.rollback()
    assert temporary_tables() == []

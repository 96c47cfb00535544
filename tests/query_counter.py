"""Counts SQL statements, so tests can hold a page's queries constant as data grows."""

from contextlib import contextmanager

import sqlalchemy as sa

from app.extensions import db


class Counter:
    count = 0


@contextmanager
def count_queries():
    counter = Counter()

    def on_execute(*_args):
        counter.count += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)

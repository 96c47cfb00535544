"""A learner's progress in a course run changed: something other areas may act on at commit.

Attendance, quizzes and surveys call `changed(run_id)` where they record what a course's
rule looks at; the certificates area registers what to do with the runs touched
(`on_commit`), once per transaction however many marks or answers it held. The areas that
record progress therefore need not know about certificates, and no path that records
progress (today's or a future one) can forget to issue what became due.
"""

from collections.abc import Callable

import sqlalchemy as sa

from app.extensions import db

_KEY = "progress_changed_runs"
_handlers: list[Callable[[set[int]], None]] = []


def changed(run_id: int) -> None:
    db.session.info.setdefault(_KEY, set()).add(run_id)


def on_commit(handler: Callable[[set[int]], None]) -> Callable[[set[int]], None]:
    """Register `handler(run_ids)`, called before the commit that saves the progress, so
    what it writes is saved in the same transaction."""
    _handlers.append(handler)
    return handler


@sa.event.listens_for(db.session, "before_commit")
def _before_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint released: the work waits for the real commit
    run_ids = session.info.pop(_KEY, None)
    if run_ids:
        for handler in _handlers:
            handler(run_ids)


@sa.event.listens_for(db.session, "after_rollback")
def _after_rollback(session):
    if not session.in_nested_transaction():
        session.info.pop(_KEY, None)

"""Recording audit events in the transaction of the change they describe.

`record()` only keeps the event in the session; every event of a transaction is written by
one multi-row INSERT just before it commits. So a rolled-back change leaves no event (a
rolled-back savepoint drops the events recorded inside it), a committed one always has its
event, and a batch of a thousand marks costs one statement more, not a thousand.
"""

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context
from flask_login import current_user

from app import progress  # noqa: F401  its commit handlers may record events: they run first
from app.extensions import db
from app.timeutil import utcnow

from .actions import ACTION_LABELS
from .models import AuditEvent

_KEY = "audit_pending"
# Values are statuses, scores, ids, codes and dates: anything longer is probably free text.
MAX_TEXT = 64


class _Current:
    def __repr__(self) -> str:
        return "CURRENT"


# The actor when the service does not know it: whoever is signed in for this request; the
# system (None) in a queue job or a command.
CURRENT = _Current()


def _id(obj) -> int | None:
    """An object's primary key without loading it (an expired object would cost a query)."""
    if obj is None or isinstance(obj, int):
        return obj
    identity = sa.inspect(obj).identity
    return identity[0] if identity else obj.id


def _actor_id(actor) -> int | None:
    if actor is CURRENT:
        if has_request_context() and current_user.is_authenticated:
            return _id(current_user._get_current_object())
        return None
    return _id(actor)


def _plain(value):
    """A JSON value of ids, numbers, statuses, codes and dates; refuses anything else."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError("audit values hold codes and statuses, not free text")
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


def _request_id() -> str | None:
    value = g.get("request_id") if has_app_context() else None
    return str(value)[:64] if value else None


def record(
    action: str,
    *,
    subject_type: str,
    subject_id: int | None,
    actor=CURRENT,
    person_id: int | None = None,
    run_id: int | None = None,
    programme_id: int | None = None,
    before: Mapping | None = None,
    after: Mapping | None = None,
) -> None:
    """Keep an audit event for the current transaction; it is written when that commits.

    Only ids and non-personal values: never a name, an e-mail or a typed remark or reason.
    """
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    row = {
        "at": utcnow(),
        "actor_id": _actor_id(actor),
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "person_id": person_id,
        "run_id": run_id,
        "programme_id": programme_id,
        "before": _plain(before) if before is not None else None,
        "after": _plain(after) if after is not None else None,
        "request_id": _request_id(),
    }
    session.info.setdefault(_KEY, []).append((transaction, row))


def record_role(action: str, *, user, role, by, programme_id: int | None = None) -> None:
    """One role given ("role.grant") or taken ("role.revoke") from an account, on the whole
    account or, with programme_id, in one programme."""
    held, gone = {"role": role}, {"role": None}
    granted = action == "role.grant"
    record(
        action,
        subject_type="user",
        subject_id=_id(user),
        actor=by,
        person_id=user.person_id,
        programme_id=programme_id,
        before=gone if granted else held,
        after=held if granted else gone,
    )


def pending_count() -> int:
    return len(db.session.info.get(_KEY, ()))


def write_pending(session=None) -> int:
    """Write the events kept so far, in one statement; returns how many."""
    session = session or db.session()
    pending = session.info.pop(_KEY, None)
    if not pending:
        return 0
    session.execute(sa.insert(AuditEvent.__table__), [row for _transaction, row in pending])
    return len(pending)


def _inside(transaction, ended) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@sa.event.listens_for(db.session, "before_commit")
def _write_before_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint released: its events wait for the real commit
    write_pending(session)


@sa.event.listens_for(db.session, "after_soft_rollback")
def _forget_rolled_back_savepoint(session, previous_transaction):
    if previous_transaction.nested and session.info.get(_KEY):
        session.info[_KEY] = [
            (transaction, row)
            for transaction, row in session.info[_KEY]
            if not _inside(transaction, previous_transaction)
        ]


@sa.event.listens_for(db.session, "after_transaction_end")
def _forget_at_end(session, transaction):
    # After a commit the list is already written; after a rollback or close it must go.
    if transaction.parent is None:
        session.info.pop(_KEY, None)

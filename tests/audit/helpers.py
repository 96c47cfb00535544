"""Reading the audit trail in tests, and counting the statements that write it."""

from contextlib import contextmanager

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db


def events(action: str | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


class Statements(list):
    def writing_audit(self) -> list[str]:
        return [s for s in self if s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT")]


@contextmanager
def capture_statements():
    """Every statement sent to the database (an executemany counts once)."""
    seen = Statements()

    def on_execute(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_execute)

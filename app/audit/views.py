"""The audit trail as people read it: labels in the reader's language, before → after."""

import csv
import io
import json
from dataclasses import dataclass

from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.attendance.models import ATTENDANCE_LABELS
from app.auth.roles import ROLE_LABELS
from app.certificates.models import KIND_LABELS, LANGUAGE_LABELS, STATUS_LABELS
from app.i18n import LOCALE_NAMES
from app.quizzes.models import ATTEMPT_STATE_LABELS

from .actions import ACTION_LABELS, FIELD_LABELS, SUBJECT_LABELS

CHANNEL_LABELS = {
    "roll_call": _l("Roll-call"),
    "qr": _l("QR check-in"),
    "offline_sync": _l("Offline sync"),
    "import": _l("Import"),
}

# Which labels translate the values of which key.
VALUE_LABELS = {
    "status": {**ATTENDANCE_LABELS, **STATUS_LABELS},
    "state": ATTEMPT_STATE_LABELS,
    "role": ROLE_LABELS,
    "kind": KIND_LABELS,
    "channel": CHANNEL_LABELS,
    "action": ACTION_LABELS,
}


@dataclass
class Change:
    label: str
    before: str
    after: str
    changed: bool


@dataclass
class EventLine:
    id: int
    at: object
    action: str
    actor: str
    actor_id: int | None
    person: str | None
    person_id: int | None
    subject: str
    programme: str | None
    course: str | None
    run_id: int | None
    changes: list[Change]
    request_id: str | None


def show_value(key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, float):
        return format_decimal(round(value, 2))
    if key == "language":
        label = LANGUAGE_LABELS.get(value) or LOCALE_NAMES.get(value)
        return str(label or value)
    if key == "format":
        return str(value).upper()
    if isinstance(value, list):
        return ", ".join(show_value(key, v) for v in value)
    label = VALUE_LABELS.get(key, {}).get(value)
    return str(label if label is not None else value)


def changes(before: dict | None, after: dict | None) -> list[Change]:
    """One line per value, in the order the event gives them; unchanged values stay as context."""
    before, after = before or {}, after or {}
    keys = list(dict.fromkeys([*after, *before]))
    return [
        Change(
            label=str(FIELD_LABELS.get(key, key)),
            before=show_value(key, before.get(key)) if key in before else "",
            after=show_value(key, after.get(key)) if key in after else "",
            changed=before.get(key) != after.get(key),
        )
        for key in keys
    ]


def _name(first, last) -> str | None:
    return f"{first} {last}".strip() if first or last else None


def event_line(row) -> EventLine:
    event = row.AuditEvent
    actor = _name(row.actor_first, row.actor_last)
    if actor is None:
        actor = _("System") if event.actor_id is None else _("Account #%(n)d", n=event.actor_id)
    subject_label = SUBJECT_LABELS.get(event.subject_type, event.subject_type)
    return EventLine(
        id=event.id,
        at=event.at,
        action=str(ACTION_LABELS.get(event.action, event.action)),
        actor=actor,
        actor_id=event.actor_id,
        person=_name(row.person_first, row.person_last),
        person_id=event.person_id,
        subject=f"{subject_label} #{event.subject_id}" if event.subject_id else str(subject_label),
        programme=row.programme_code,
        course=row.course_code,
        run_id=event.run_id,
        changes=changes(event.before, event.after),
        request_id=event.request_id,
    )


def _safe(value):
    # Spreadsheet programs run cells that start with = + - @ as formulas.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows) -> bytes:
    """The filtered trail as CSV (UTF-8 with a byte-order mark, so Excel shows ë ç č š ž)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Event"),
            _("When"),
            _("Action"),
            _("Action key"),
            _("Done by"),
            _("Account number"),
            _("Person"),
            _("Person number"),
            _("Record"),
            _("Record number"),
            _("Programme"),
            _("Course"),
            _("Course run number"),
            _("Before"),
            _("After"),
            _("Change"),
            _("Request"),
        ]
    )
    for row in rows:
        line = event_line(row)
        event = row.AuditEvent
        summary = "; ".join(
            f"{c.label}: {c.before} → {c.after}" if c.before else f"{c.label}: {c.after}"
            for c in line.changes
        )
        writer.writerow(
            [
                _safe(v) if v is not None else ""
                for v in (
                    event.id,
                    format_datetime(event.at, "yyyy-MM-dd HH:mm:ss"),
                    line.action,
                    event.action,
                    line.actor,
                    event.actor_id,
                    line.person,
                    event.person_id,
                    str(SUBJECT_LABELS.get(event.subject_type, event.subject_type)),
                    event.subject_id,
                    line.programme,
                    line.course,
                    event.run_id,
                    json.dumps(event.before, ensure_ascii=False) if event.before else "",
                    json.dumps(event.after, ensure_ascii=False) if event.after else "",
                    summary,
                    event.request_id,
                )
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")

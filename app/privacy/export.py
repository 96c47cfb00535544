"""A person's data as a download (GDPR art. 15 and 20; Kosovo's Law No. 06/L-082, art. 14):
a JSON file for machines and a PDF for people, both made from the same collected values."""

import enum
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.extensions import db
from app.pdf import render_pdf
from app.people.models import Person
from app.text import normalize_email

from .sources import ACTORS, EMAIL, PERSON, SOURCES, USER, actor_counts_query

FORMAT = "akademia-personal-data/1"


@dataclass
class Section:
    key: str
    title: str
    fields: list[tuple[str, str]]  # (key, label)
    rows: list[dict]


@dataclass
class PersonalData:
    person_id: int
    generated_at: datetime
    sections: list[Section]
    # (column "table.column", label, count) of rows the account recorded about others.
    staff_records: list[tuple[str, str, int]]


def _value(value):
    """A JSON value: dates as ISO text, enums as their codes, JSON columns as they are."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    return value


def collect(person: Person, now: datetime) -> PersonalData:
    """Everything held about the person: one query per source, one for staff records."""
    user_id = db.session.scalar(sa.select(User.id).where(User.person_id == person.id))
    subjects = {PERSON: person.id, USER: user_id, EMAIL: normalize_email(person.email)}
    sections = []
    for source in SOURCES:
        subject = subjects[source.by]
        rows = []
        if subject is not None:
            rows = [
                {key: _value(value) for key, value in row.items()}
                for row in db.session.execute(source.query(subject)).mappings()
            ]
        sections.append(
            Section(
                key=source.key,
                title=str(source.title),
                fields=[(f.key, str(f.label)) for f in source.fields],
                rows=rows,
            )
        )
    staff = []
    if user_id is not None:
        for index, count in db.session.execute(actor_counts_query(user_id)):
            if count:
                actor = ACTORS[index]
                column = f"{actor.column.table.name}.{actor.column.name}"
                staff.append((column, str(actor.label), count))
    return PersonalData(person.id, now, sections, staff)


def json_bytes(data: PersonalData) -> bytes:
    document = {
        "format": FORMAT,
        "generated_at": data.generated_at.isoformat(),
        "person_id": data.person_id,
        "data": {section.key: section.rows for section in data.sections},
        "staff_records": {column: count for column, _label, count in data.staff_records},
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode()


def _cell(value) -> str:
    if value is None:
        return ""
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def pdf_context(data: PersonalData, name: str) -> dict:
    """Plain values for privacy/export_pdf.html; every cell is text already."""
    return {
        "name": name,
        "person_id": data.person_id,
        "generated_at": data.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "sections": [
            {
                "title": section.title,
                "headings": [label for _key, label in section.fields],
                "rows": [
                    [_cell(row[key]) for key, _label in section.fields] for row in section.rows
                ],
            }
            for section in data.sections
        ],
        "staff_records": [[label, count] for _column, label, count in data.staff_records],
    }


def pdf_bytes(data: PersonalData, name: str) -> bytes:
    return render_pdf(
        "privacy/export_pdf.html",
        pdf_context(data, name),
        title=_("Personal data held by Akademia"),
        subject=_("Everything Akademia holds about %(name)s", name=name),
    )


def file_stem(data: PersonalData) -> str:
    return f"akademia-personal-data-{data.person_id}-{data.generated_at:%Y%m%d}"


def summary(data: PersonalData) -> list[tuple[str, int]]:
    """(title, number of rows) of every source, for the pages before a download or erasure."""
    return [(section.title, len(section.rows)) for section in data.sections]

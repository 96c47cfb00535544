"""Import of municipal indicators from CSV or XLSX: parse and preview, then save on confirmation.

One row per municipality and year. `preview_indicators` only reads and says what each row would
do; `apply_preview` saves a preview without errors in the caller's transaction (flushes, never
commits), updating the records of municipalities and years already there. Reading the file
(size and content checks, encoding, delimiter, XLSX) is the participant import's.

An indicator column missing from the file leaves that indicator as it was; an empty cell in a
column that is there means "not measured".
"""

import codecs
import csv
import enum
import io
import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.people.importer import ImportFileError, detect_kind, read_table
from app.places.models import Municipality
from app.places.queries import municipality_matcher
from app.text import normalize_name

from .indicator_services import (
    INDICATORS,
    IndicatorValues,
    apply_indicators,
    display_value,
    indicator_problems,
)
from .models import INDICATOR_LABELS, Bilingual, MunicipalIndicator
from .services import check_year

# Column names in English, Albanian and Serbian, compared without case, accents or spaces.
COLUMN_ALIASES = {
    "municipality": ["municipality", "municipality code", "komuna", "opština", "општина"],
    "year": ["year", "viti", "godina", "година"],
    "online_services": [
        "online_services",
        "online services",
        "e-services",
        "shërbime online",
        "shërbimet online",
        "shërbime elektronike",
        "e-shërbime",
        "usluge online",
        "onlajn usluge",
        "elektronske usluge",
        "e-usluge",
    ],
    "service_maturity": [
        "service_maturity",
        "service maturity",
        "maturity",
        "maturity level",
        "pjekuria",
        "pjekuria e shërbimeve",
        "niveli i pjekurisë",
        "zrelost",
        "zrelost usluga",
        "nivo zrelosti",
    ],
    "transparency_score": [
        "transparency_score",
        "transparency score",
        "transparency",
        "website transparency",
        "transparenca",
        "transparenca e uebfaqes",
        "pikët e transparencës",
        "transparentnost",
        "ocena transparentnosti",
        "transparentnost sajta",
    ],
    "bilingual": [
        "bilingual",
        "bilingual availability",
        "bilingual website",
        "dygjuhësia",
        "dygjuhësi",
        "në dy gjuhë",
        "dvojezičnost",
        "dvojezično",
    ],
    "open_datasets": [
        "open_datasets",
        "open datasets",
        "open data",
        "të dhëna të hapura",
        "grupe të dhënash të hapura",
        "otvoreni podaci",
        "skupovi otvorenih podataka",
    ],
}
BILINGUAL_VALUES = {
    Bilingual.FULL: ["full", "yes", "fully", "both", "po", "plotësisht", "da", "potpuno"],
    Bilingual.PARTIAL: [
        "partial",
        "partly",
        "partially",
        "pjesërisht",
        "pjesshëm",
        "delimično",
        "djelimično",
        "delomično",
    ],
    Bilingual.NO: ["no", "none", "jo", "ne", "one language", "një gjuhë", "jedan jezik"],
}
NUMBER = re.compile(r"-?\d+(?:[.,]0+)?%?")
REQUIRED = ("municipality", "year")
NUMERIC = ("online_services", "service_maturity", "transparency_score", "open_datasets")
TEMPLATE_COLUMNS = ["municipality", "year", *INDICATORS]


def fold(value: str) -> str:
    """Header and value key: no case, accents, spaces or punctuation."""
    return re.sub(r"\W+", "", normalize_name(value))


COLUMN_LOOKUP = {fold(a): column for column, names in COLUMN_ALIASES.items() for a in names}
BILINGUAL_LOOKUP = {fold(v): b for b, values in BILINGUAL_VALUES.items() for v in values}


class Outcome(enum.StrEnum):
    NEW = "new"  # no record yet for the municipality and year
    UPDATE = "update"  # replaces values recorded before
    SAME = "same"  # the same values are already recorded
    ERROR = "error"


@dataclass
class IndicatorRow:
    number: int  # as the spreadsheet numbers it: the header is row 1
    municipality_text: str
    municipality_id: int | None = None
    municipality_name: str = ""
    year: int | None = None
    values: IndicatorValues = field(default_factory=IndicatorValues)
    shown: list[str] = field(default_factory=list)  # the values as read, column by column
    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    outcome: Outcome = Outcome.NEW


@dataclass
class IndicatorPreview:
    kind: str
    given: tuple[str, ...]  # the indicator columns of the file, in the usual order
    ignored_columns: list[str]
    rows: list[IndicatorRow]

    @property
    def error_rows(self) -> list[IndicatorRow]:
        return [row for row in self.rows if row.problems]

    @property
    def column_labels(self) -> list[str]:
        return [str(INDICATOR_LABELS[name]) for name in self.given]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def map_columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column name → index for the recognised headers, and the headers left unread."""
    columns: dict[str, int] = {}
    ignored = []
    for index, name in enumerate(header):
        column = COLUMN_LOOKUP.get(fold(name))
        if column and column not in columns:
            columns[column] = index
        elif name.strip():
            ignored.append(name.strip())
    missing = [c for c in REQUIRED if c not in columns]
    if missing or not any(name in columns for name in INDICATORS):
        raise ImportFileError(
            _(
                "The first row must name the columns: municipality, year and at least one of "
                "online_services, service_maturity, transparency_score, bilingual, "
                "open_datasets. Download the template to see them."
            )
        )
    return columns, ignored


def _whole_number(raw: str) -> int:
    if not NUMBER.fullmatch(raw.replace(" ", "")):
        raise ValueError(raw)
    return int(re.split(r"[.,%]", raw.replace(" ", ""))[0])


def _read_values(row: IndicatorRow, cells: dict[str, str], given: tuple[str, ...]) -> None:
    for name in given:
        raw = cells.get(name, "")
        if not fold(raw):  # empty, or "-" / "—": not measured
            continue
        label = INDICATOR_LABELS[name]
        if name == "bilingual":
            value = BILINGUAL_LOOKUP.get(fold(raw))
            if value is None:
                row.problems.append(
                    _(
                        "“%(value)s” under %(column)s: write full, partial or no.",
                        value=raw,
                        column=label,
                    )
                )
        else:
            try:
                value = _whole_number(raw)
            except ValueError:
                row.problems.append(
                    _(
                        "“%(value)s” under %(column)s is not a whole number.",
                        value=raw,
                        column=label,
                    )
                )
                continue
        setattr(row.values, name, value)
    row.problems += [message for _field, message in indicator_problems(row.values, given=given)]
    row.shown = [display_value(name, getattr(row.values, name)) for name in given]


def _parse_row(number, cells, given, municipalities, today) -> IndicatorRow:
    row = IndicatorRow(number=number, municipality_text=cells.get("municipality", ""))
    if not row.municipality_text:
        row.problems.append(_("The municipality is missing."))
    elif (found := municipalities.get(normalize_name(row.municipality_text))) is None:
        row.problems.append(_("Unknown municipality “%(value)s”.", value=row.municipality_text))
    else:
        row.municipality_id, row.municipality_name = found.id, found.display_name
    raw_year = cells.get("year", "")
    try:
        row.year = check_year(_whole_number(raw_year), today=today)
    except ValueError:
        row.problems.append(
            _("“%(value)s” is not a year.", value=raw_year)
            if raw_year
            else _("The year is missing.")
        )
    except DomainError as error:
        row.problems.append(error.message)
    _read_values(row, cells, given)
    return row


def _existing(rows: list[IndicatorRow]) -> dict[tuple[int, int], MunicipalIndicator]:
    """The records the rows would replace, in one query."""
    keys = {(r.municipality_id, r.year) for r in rows if r.municipality_id and r.year}
    if not keys:
        return {}
    records = db.session.scalars(
        sa.select(MunicipalIndicator).where(
            MunicipalIndicator.year.in_({year for _m, year in keys}),
            MunicipalIndicator.municipality_id.in_({m for m, _year in keys}),
        )
    )
    return {(r.municipality_id, r.year): r for r in records}


def _plan(rows: list[IndicatorRow], given: tuple[str, ...]) -> None:
    seen: dict[tuple[int, int], int] = {}
    existing = _existing(rows)
    for row in rows:
        key = (row.municipality_id, row.year)
        if row.municipality_id and row.year:
            if key in seen:
                row.problems.append(
                    _(
                        "Row %(row)d already gives %(municipality)s for %(year)d.",
                        row=seen[key],
                        municipality=row.municipality_name,
                        year=row.year,
                    )
                )
            seen.setdefault(key, row.number)
        if row.problems:
            row.outcome = Outcome.ERROR
            continue
        record = existing.get(key)
        if record is None:
            row.outcome = Outcome.NEW
            continue
        for name in given:
            old, new = getattr(record, name), getattr(row.values, name)
            if old != new:
                row.changes.append(
                    f"{INDICATOR_LABELS[name]}: {display_value(name, old)} → "
                    f"{display_value(name, new)}"
                )
        row.outcome = Outcome.UPDATE if row.changes else Outcome.SAME


def preview_indicators(
    *, data: bytes, filename: str, today: date | None = None
) -> IndicatorPreview:
    """Parse and check the file; saves nothing. Raises ImportFileError for an unusable file."""
    kind = detect_kind(data, filename)
    header, records = read_table(data, kind)
    columns, ignored = map_columns(header)
    if not records:
        raise ImportFileError(_("The file has a header row but no rows of municipalities."))
    given = tuple(name for name in INDICATORS if name in columns)
    municipalities = municipality_matcher()
    rows = []
    for number, cells in records:
        values = {
            name: cells[index].strip() if index < len(cells) else ""
            for name, index in columns.items()
        }
        rows.append(_parse_row(number, values, given, municipalities, today))
    _plan(rows, given)
    return IndicatorPreview(kind=kind, given=given, ignored_columns=ignored, rows=rows)


def apply_preview(*, preview: IndicatorPreview, by: User | None) -> ImportResult:
    """Save every row of a preview without errors; flushes only. A file with any error is
    refused whole, so a half-corrected file never leaves half its rows behind."""
    if preview.error_rows:
        raise DomainError(
            _(
                "The file has rows with errors; nothing was saved. Correct them and upload the "
                "file again."
            )
        )
    result = ImportResult()
    existing = _existing(preview.rows)
    for row in preview.rows:
        record = existing.get((row.municipality_id, row.year))
        if record is None:
            record = MunicipalIndicator(municipality_id=row.municipality_id, year=row.year)
            db.session.add(record)
            result.created += 1
            apply_indicators(record, row.values, given=preview.given, by=by)
        elif apply_indicators(record, row.values, given=preview.given, by=by):
            result.updated += 1
        else:
            result.unchanged += 1
    db.session.flush()
    return result


def template_csv(year: int) -> bytes:
    """A sheet to fill in: the columns and a row per municipality for the year, indicators
    empty; UTF-8 with BOM so Excel shows ë ç č ć š ž đ."""
    names = sorted(
        (m.display_name for m in db.session.scalars(sa.select(Municipality))), key=normalize_name
    )
    out = io.StringIO()
    # Semicolons: Excel set to Albanian or Serbian expects them, and the import reads both.
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    for name in names:
        writer.writerow([name, str(year)] + [""] * len(INDICATORS))
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")

"""Bulk import of a programme's participants from CSV or XLSX: parse, preview, then save.

`preview_import` only reads: it returns every row with its status and problems. `apply_import`
saves the valid rows of a preview in the caller's transaction (it flushes, never commits).
"""

import codecs
import csv
import enum
import io
import re
import secrets
import time
import zipfile
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import uploads
from app.errors import DomainError
from app.extensions import db
from app.places.models import Municipality
from app.places.queries import municipality_matcher
from app.programmes.models import ProgrammeParticipant
from app.programmes.services import add_participant
from app.text import normalize_email, normalize_name

from . import services
from .models import (
    INSTITUTION_TYPE_LABELS,
    SEX_LABELS,
    TARGET_GROUP_LABELS,
    Institution,
    InstitutionType,
    Person,
    Sex,
    TargetGroup,
)
from .queries import loose_key, loose_key_sql

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
# A workbook that unpacks to more than this is a zip bomb, not a list of participants.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
# A sheet formatted down to row 1,048,576 ends where this many empty rows follow each other.
MAX_EMPTY_RUN = 1000
STALE_UPLOAD_SECONDS = 24 * 3600
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,100}")
KINDS = ("csv", "xlsx")


# The header names in English, Albanian and Serbian; compared without case, accents or spaces.
HEADER_ALIASES = {
    "first_name": [
        "first_name",
        "first name",
        "firstname",
        "given name",
        "emri",
        "emër",
        "ime",
        "име",
    ],
    "last_name": [
        "last_name",
        "last name",
        "lastname",
        "surname",
        "family name",
        "mbiemri",
        "mbiemër",
        "prezime",
        "презиме",
    ],
    "email": [
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "email adresa",
        "e-mail adresa",
        "adresa email",
        "adresa e emailit",
        "e-posta",
        "imejli",
        "mejl",
    ],
    "sex": ["sex", "gender", "gjinia", "gjini", "pol", "пол"],
    "birth_year": [
        "birth_year",
        "birth year",
        "year of birth",
        "viti i lindjes",
        "viti lindjes",
        "godina rođenja",
        "godište",
        "година рођења",
    ],
    "date_of_birth": [
        "date_of_birth",
        "date of birth",
        "birth date",
        "birthdate",
        "dob",
        "data e lindjes",
        "datëlindja",
        "ditëlindja",
        "datum rođenja",
        "датум рођења",
    ],
    "municipality": [
        "municipality",
        "komuna",
        "opština",
        "општина",
        "komuna opština",
        "city",
        "qyteti",
        "grad",
        "vendbanimi",
        "mesto",
    ],
    "institution": [
        "institution",
        "institucioni",
        "institucion",
        "institucija",
        "организација",
        "organisation",
        "organization",
        "organizata",
        "organizacija",
    ],
    "institution_type": [
        "institution_type",
        "institution type",
        "type of institution",
        "lloji i institucionit",
        "tipi i institucionit",
        "tip institucije",
        "vrsta institucije",
    ],
    "position": [
        "position",
        "job title",
        "pozita",
        "pozicioni",
        "pozicija",
        "funkcija",
        "funksioni",
        "radno mesto",
        "radno mjesto",
    ],
    "department": [
        "department",
        "directorate",
        "faculty",
        "drejtoria",
        "departamenti",
        "fakulteti",
        "odeljenje",
        "odjeljenje",
        "direkcija",
        "direktorat",
        "fakultet",
        "sektor",
        "sektori",
    ],
    "target_group": [
        "target_group",
        "target group",
        "grupi i synuar",
        "grupi i synuar",
        "ciljna grupa",
        "category",
        "kategoria",
        "kategorija",
    ],
    "phone": [
        "phone",
        "telephone",
        "phone number",
        "mobile",
        "tel",
        "telefoni",
        "telefon",
        "numri i telefonit",
        "nr telefoni",
        "broj telefona",
        "mobilni",
    ],
}
TEMPLATE_COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "sex",
    "birth_year",
    "municipality",
    "institution",
    "institution_type",
    "position",
    "department",
    "target_group",
    "phone",
]

SEX_VALUES = {
    Sex.FEMALE: [
        "f",
        "female",
        "woman",
        "w",
        "femër",
        "femra",
        "grua",
        "ž",
        "ženski",
        "žensko",
        "žena",
        "ж",
        "женски",
    ],
    Sex.MALE: [
        "m",
        "male",
        "man",
        "mashkull",
        "meshkuj",
        "burrë",
        "muški",
        "muško",
        "muškarac",
        "м",
        "мушки",
    ],
    Sex.UNDISCLOSED: [
        "undisclosed",
        "not disclosed",
        "prefer not to say",
        "nuk deklarohet",
        "pa deklaruar",
        "ne izjašnjava se",
        "neizjašnjeno",
        "x",
    ],
}
TARGET_GROUP_VALUES = {
    TargetGroup.MUNICIPAL_OFFICIAL: [
        "municipal_official",
        "municipal official",
        "official",
        "civil servant",
        "zyrtar",
        "zyrtare",
        "zyrtar komunal",
        "zyrtare komunale",
        "nëpunës",
        "nëpunës civil",
        "službenik",
        "službenica",
        "opštinski službenik",
        "opštinska službenica",
    ],
    TargetGroup.STUDENT: [
        "student",
        "students",
        "studente",
        "studentë",
        "studentet",
        "studenti",
        "studentkinja",
        "studentica",
    ],
    TargetGroup.CSO: [
        "cso",
        "ngo",
        "ojq",
        "oshc",
        "nvo",
        "ocd",
        "civil society",
        "civil-society organisation",
        "civil society organization",
        "shoqëri civile",
        "organizatë e shoqërisë civile",
        "civilno društvo",
        "organizacija civilnog društva",
    ],
    TargetGroup.MEDIA: [
        "media",
        "journalist",
        "gazetar",
        "gazetare",
        "novinar",
        "novinarka",
        "mediji",
    ],
    TargetGroup.OTHER: ["other", "tjetër", "drugo", "ostalo", "ostali"],
}
INSTITUTION_TYPE_VALUES = {
    InstitutionType.MUNICIPALITY: [
        "municipality",
        "municipal",
        "komuna",
        "opština",
        "local government",
        "pushtet lokal",
        "lokalna samouprava",
    ],
    InstitutionType.MINISTRY: [
        "ministry",
        "ministria",
        "ministri",
        "ministarstvo",
        "government",
        "qeveria",
        "vlada",
    ],
    InstitutionType.AGENCY: [
        "agency",
        "public agency",
        "agjenci",
        "agjencia",
        "agjenci publike",
        "agencija",
        "javna agencija",
    ],
    InstitutionType.UNIVERSITY: [
        "university",
        "universitet",
        "universiteti",
        "univerzitet",
        "faculty",
        "fakultet",
        "fakulteti",
        "college",
        "kolegj",
    ],
    InstitutionType.CSO: [
        "cso",
        "ngo",
        "ojq",
        "oshc",
        "nvo",
        "ocd",
        "civil society",
        "civil-society organisation",
        "shoqëri civile",
        "civilno društvo",
    ],
    InstitutionType.MEDIA: ["media", "mediat", "mediji"],
    InstitutionType.PRIVATE: [
        "private",
        "private company",
        "company",
        "business",
        "privat",
        "kompani",
        "kompania",
        "biznes",
        "sektori privat",
        "kompanija",
        "preduzeće",
        "firma",
        "privatni sektor",
    ],
    InstitutionType.OTHER: ["other", "tjetër", "drugo", "ostalo"],
}

MAX_LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 40,
    "position": 150,
    "department": 150,
    "institution": 200,
}
COLUMN_LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "position": _l("Position"),
    "department": _l("Department"),
    "institution": _l("Institution"),
}

DATE_DOTTED = re.compile(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\.?")
DATE_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?")
YEAR = re.compile(r"(\d{4})(?:\.0+)?")


def _key(value: str) -> str:
    """Header and value key: no case, accents, spaces or punctuation."""
    return re.sub(r"\W+", "", normalize_name(value))


def _lookup(aliases: dict) -> dict:
    return {_key(alias): canonical for canonical, names in aliases.items() for alias in names}


HEADER_LOOKUP = _lookup(HEADER_ALIASES)
SEX_LOOKUP = _lookup(SEX_VALUES)
TARGET_GROUP_LOOKUP = _lookup(TARGET_GROUP_VALUES) | {_key(t.value): t for t in TargetGroup}
INSTITUTION_TYPE_LOOKUP = _lookup(INSTITUTION_TYPE_VALUES) | {
    _key(t.value): t for t in InstitutionType
}


class ImportFileError(DomainError):
    """The file as a whole cannot be read; nothing from it is used."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


class RowStatus(enum.StrEnum):
    NEW = "new"
    MATCH = "match"
    ERROR = "error"


@dataclass
class PersonData:
    """A row's values, parsed and checked."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    sex: Sex | None = None
    birth_year: int | None = None
    municipality_id: int | None = None
    institution: str | None = None
    institution_type: InstitutionType | None = None
    position: str | None = None
    department: str | None = None
    target_group: TargetGroup | None = None

    @property
    def match_key(self) -> str:
        """Person.name_key, loosened as in the search (đ typed as d or dj)."""
        return loose_key(normalize_name(f"{self.first_name} {self.last_name}"))


@dataclass
class ImportRow:
    number: int  # as the spreadsheet numbers it: the header is row 1
    values: dict[str, str]
    data: PersonData | None = None
    problems: list[str] = field(default_factory=list)
    matched_person_id: int | None = None
    matched_person_name: str | None = None
    # Attribute names of the matched person that are empty and that the row would fill.
    fill_fields: list[str] = field(default_factory=list)
    fills: list[str] = field(default_factory=list)  # the same, for people to read
    notes: list[str] = field(default_factory=list)
    municipality_label: str = ""
    institution_id: int | None = None
    new_institution: bool = False

    @property
    def status(self) -> RowStatus:
        if self.problems:
            return RowStatus.ERROR
        return RowStatus.MATCH if self.matched_person_id else RowStatus.NEW

    @property
    def name(self) -> str:
        return f"{self.values.get('first_name', '')} {self.values.get('last_name', '')}".strip()


@dataclass
class ImportPreview:
    kind: str
    columns: list[str]
    ignored_columns: list[str]
    rows: list[ImportRow]

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.problems]

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.problems]

    def count(self, status: RowStatus) -> int:
        return sum(1 for row in self.rows if row.status == status)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    added: int = 0  # newly added to the programme
    skipped: list[ImportRow] = field(default_factory=list)


# --- Reading the file ----------------------------------------------------------------------


def detect_kind(data: bytes, filename: str) -> str:
    """Return "csv" or "xlsx", judged by the content (app/uploads.py); a name that promises
    another kind is refused too, so that the user learns which file they picked."""
    try:
        kind = uploads.table_kind(data)
    except uploads.UploadError as error:
        raise ImportFileError(error.message) from error
    suffix = Path(filename or "").suffix.lower()
    if kind == "csv" and suffix in (".xlsx", ".xlsm"):
        raise ImportFileError(_("The file is named .xlsx but is not an Excel workbook."))
    if kind == "csv" and suffix not in ("", ".csv", ".txt"):
        raise ImportFileError(_("Upload a CSV file or an Excel workbook (.xlsx)."))
    return kind


def read_table(data: bytes, kind: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows (with their row numbers) of a CSV or XLSX file."""
    records = _xlsx_records(data) if kind == "xlsx" else _csv_records(data)
    with closing(records):
        return _split_header(records)


def _split_header(records) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    empty_run = 0
    for number, cells in records:
        if not any(cells):
            empty_run += 1
            if header is not None and empty_run > MAX_EMPTY_RUN:
                break
            continue
        empty_run = 0
        if header is None:
            header = cells
            continue
        if len(rows) == MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)d rows. Split it into smaller files.", max=MAX_ROWS)
            )
        rows.append((number, cells))
    if header is None:
        raise ImportFileError(_("The file is empty."))
    return header, rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_records(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise ImportFileError(_("The file is a zip archive, not an Excel workbook."))
            # zipfile never unpacks more than the sizes declared here, so they can be trusted.
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ImportFileError(
                    _("The workbook is too large once unpacked. Split it into smaller files.")
                )
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl and zipfile fail in many ways on damaged files
        raise ImportFileError(_("The workbook could not be opened; it may be damaged.")) from error
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
        ):
            yield number, [_cell_text(v) for v in values]
    except ImportFileError:
        raise
    except Exception as error:
        raise ImportFileError(_("The workbook could not be read; it may be damaged.")) from error
    finally:
        workbook.close()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1250 or -1252."""
    try:
        return uploads.decode_text(data)
    except uploads.UploadError as error:
        raise ImportFileError(error.message) from error


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_records(data: bytes):
    text = decode_text(data)
    if uploads.looks_binary(text):
        raise ImportFileError(_("The file is not a CSV text file. Upload a CSV or XLSX file."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in cells[:MAX_COLUMNS]]
    except csv.Error as error:
        message = _("The CSV file could not be read: %(error)s", error=str(error))
        raise ImportFileError(message) from error


def map_headers(header: list[str]) -> tuple[dict[int, str], list[str]]:
    """Column index → field name for the recognised headers, and the headers left unread."""
    columns: dict[int, str] = {}
    ignored = []
    for index, name in enumerate(header):
        canonical = HEADER_LOOKUP.get(_key(name))
        if canonical and canonical not in columns.values():
            columns[index] = canonical
        elif name.strip():
            ignored.append(name.strip())
    if not columns:
        raise ImportFileError(
            _(
                "The first row must name the columns, for example first_name, last_name, email, "
                "municipality. Download the template to see them all."
            )
        )
    missing = [c for c in ("first_name", "last_name") if c not in columns.values()]
    if missing:
        raise ImportFileError(
            _(
                "The file has no column for: %(columns)s.",
                columns=", ".join(str(COLUMN_LABELS[c]) for c in missing),
            )
        )
    return columns, ignored


# --- Checking the values -------------------------------------------------------------------


def parse_birth_year(value: str) -> int | None:
    """A year, or a date of birth (dd.mm.yyyy, dd/mm/yyyy, yyyy-mm-dd) reduced to its year."""
    value = value.strip()
    if match := YEAR.fullmatch(value):
        return int(match.group(1))
    if match := DATE_ISO.fullmatch(value):
        year, month, day = (int(g) for g in match.groups())
        return _real_date(year, month, day)
    if match := DATE_DOTTED.fullmatch(value):
        day, month, year = (int(g) for g in match.groups())
        return _real_date(year, month, day)
    if match := DATE_SLASHED.fullmatch(value):
        first, second, year = (int(g) for g in match.groups())
        # Day first as in the region; month first (US) only when that is the only real date.
        return _real_date(year, second, first) or _real_date(year, first, second)
    raise ValueError(value)


def _real_date(year: int, month: int, day: int) -> int | None:
    try:
        return date(year, month, day).year
    except ValueError:
        return None


def _parse_row(number: int, values: dict[str, str], municipalities: dict, today: date) -> ImportRow:
    row = ImportRow(number=number, values=values)
    problems = row.problems
    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            problems.append(
                _(
                    "%(column)s is longer than %(max)d characters.",
                    column=COLUMN_LABELS[column],
                    max=limit,
                )
            )
    first, last = values.get("first_name", ""), values.get("last_name", "")
    if not first:
        problems.append(_("The first name is missing."))
    if not last:
        problems.append(_("The last name is missing."))
    data = PersonData(first_name=first, last_name=last)
    data.phone = values.get("phone") or None
    data.position = values.get("position") or None
    data.department = values.get("department") or None
    data.institution = values.get("institution") or None

    if raw := values.get("email"):
        try:
            validate_email(raw, check_deliverability=False)
        except EmailNotValidError:
            problems.append(_("“%(value)s” is not a valid e-mail address.", value=raw))
        else:
            data.email = normalize_email(raw)

    if raw := values.get("sex"):
        data.sex = SEX_LOOKUP.get(_key(raw))
        if data.sex is None:
            problems.append(_("Unknown sex “%(value)s”: use F, M or leave it empty.", value=raw))

    raw = values.get("birth_year") or values.get("date_of_birth")
    if raw:
        try:
            data.birth_year = parse_birth_year(raw)
        except ValueError:
            problems.append(
                _("“%(value)s” is neither a birth year nor a date like 31.12.1990.", value=raw)
            )
        else:
            if data.birth_year is None:
                problems.append(_("“%(value)s” is not a real date.", value=raw))
            elif problem := services.birth_year_problem(data.birth_year, today):
                problems.append(problem)

    if raw := values.get("municipality"):
        municipality: Municipality | None = municipalities.get(normalize_name(raw))
        if municipality is None:
            problems.append(_("Unknown municipality “%(value)s”.", value=raw))
        else:
            data.municipality_id = municipality.id
            row.municipality_label = municipality.display_name

    if raw := values.get("target_group"):
        data.target_group = TARGET_GROUP_LOOKUP.get(_key(raw))
        if data.target_group is None:
            problems.append(_("Unknown target group “%(value)s”.", value=raw))

    if raw := values.get("institution_type"):
        data.institution_type = INSTITUTION_TYPE_LOOKUP.get(_key(raw))
        if data.institution_type is None:
            problems.append(_("Unknown institution type “%(value)s”.", value=raw))

    row.data = data
    return row


def _emails_clash(one: str | None, other: str | None) -> bool:
    return bool(one and other and one != other)


def _mark_duplicates_in_file(rows: list[ImportRow]) -> None:
    by_email: dict[str, int] = {}
    by_name: dict[tuple[str, int | None], list[ImportRow]] = defaultdict(list)
    for row in rows:
        data = row.data
        if data.email:
            if data.email in by_email:
                row.problems.append(
                    _(
                        "The e-mail %(email)s is also on row %(row)d.",
                        email=data.email,
                        row=by_email[data.email],
                    )
                )
                continue
            by_email[data.email] = row.number
        if not data.match_key:
            continue
        earlier = by_name[(data.match_key, data.municipality_id)]
        twin = next((e for e in earlier if not _emails_clash(e.data.email, data.email)), None)
        if twin is not None:
            row.problems.append(_("Row %(row)d names the same person.", row=twin.number))
        earlier.append(row)


def _resolve_institutions(rows: list[ImportRow]) -> None:
    names = {normalize_name(r.data.institution) for r in rows if r.data.institution}
    if not names:
        return
    existing = list(
        db.session.scalars(sa.select(Institution).where(Institution.name_key.in_(names)))
    )
    for row in rows:
        if not row.data.institution:
            continue
        found = services.find_institution(
            name=row.data.institution, municipality_id=row.data.municipality_id, candidates=existing
        )
        if found is None:
            row.new_institution = True
            kind = (
                row.data.institution_type
                or services.DEFAULT_INSTITUTION_TYPE[row.data.target_group or TargetGroup.OTHER]
            )
            row.notes.append(
                _(
                    "New institution: %(name)s (%(type)s)",
                    name=row.data.institution,
                    type=INSTITUTION_TYPE_LABELS[kind],
                )
            )
        else:
            row.institution_id = found.id


def _match_people(rows: list[ImportRow]) -> None:
    """E-mail first; else the same name in the same municipality without a clashing e-mail."""
    candidates = [r for r in rows if not r.problems]
    emails = {r.data.email for r in candidates if r.data.email}
    keys = {r.data.match_key for r in candidates if r.data.municipality_id}
    by_email = (
        {p.email: p for p in db.session.scalars(sa.select(Person).where(Person.email.in_(emails)))}
        if emails
        else {}
    )
    by_name: dict[str, list[Person]] = defaultdict(list)
    if keys:
        for person in db.session.scalars(
            sa.select(Person).where(loose_key_sql(Person.name_key).in_(keys))
        ):
            by_name[loose_key(person.name_key)].append(person)
    matched_rows: dict[int, int] = {}
    for row in candidates:
        data = row.data
        person = by_email.get(data.email) if data.email else None
        if person is None and data.municipality_id:
            namesakes = [
                p
                for p in by_name[data.match_key]
                if p.municipality_id == data.municipality_id
                and not _emails_clash(p.email, data.email)
            ]
            if len(namesakes) > 1:
                row.problems.append(
                    _(
                        "Several people called %(name)s live in this municipality; add the e-mail "
                        "to tell which one.",
                        name=row.name,
                    )
                )
                continue
            person = namesakes[0] if namesakes else None
        if person is None:
            continue
        if person.id in matched_rows:
            row.problems.append(
                _("Row %(row)d names the same person.", row=matched_rows[person.id])
            )
            continue
        matched_rows[person.id] = row.number
        row.matched_person_id = person.id
        row.matched_person_name = person.full_name
        _plan_fills(row, person)


def _plan_fills(row: ImportRow, person: Person) -> None:
    """Fill only what the person's record leaves empty; never overwrite what is there."""
    data = row.data
    plan = []
    if data.email and not person.email:
        plan.append(("email", _("E-mail"), data.email))
    if data.phone and not person.phone:
        plan.append(("phone", _("Phone"), data.phone))
    if data.sex in (Sex.FEMALE, Sex.MALE) and person.sex == Sex.UNDISCLOSED:
        plan.append(("sex", _("Sex"), SEX_LABELS[data.sex]))
    if data.birth_year and not person.birth_year:
        plan.append(("birth_year", _("Birth year"), str(data.birth_year)))
    if data.municipality_id and not person.municipality_id:
        plan.append(("municipality_id", _("Municipality"), row.municipality_label))
    if data.institution and not person.institution_id:
        plan.append(("institution_id", _("Institution"), data.institution))
    if data.position and not person.position:
        plan.append(("position", _("Position"), data.position))
    if data.department and not person.department:
        plan.append(("department", _("Department"), data.department))
    if data.target_group not in (None, TargetGroup.OTHER) and (
        person.target_group == TargetGroup.OTHER
    ):
        plan.append(("target_group", _("Target group"), TARGET_GROUP_LABELS[data.target_group]))
    row.fill_fields = [attribute for attribute, _label, _value in plan]
    row.fills = [f"{label}: {value}" for _attribute, label, value in plan]


def _note_participants(rows: list[ImportRow], programme_id: int) -> None:
    ids = {r.matched_person_id for r in rows if r.matched_person_id}
    if not ids:
        return
    already = set(
        db.session.scalars(
            sa.select(ProgrammeParticipant.person_id).where(
                ProgrammeParticipant.programme_id == programme_id,
                ProgrammeParticipant.person_id.in_(ids),
            )
        )
    )
    for row in rows:
        if row.matched_person_id in already:
            row.notes.append(_("Already takes part in this programme."))


def _blank(cell: str) -> bool:
    """Empty, or a placeholder such as "-", "—", "/" or "?" that means "not known"."""
    return not _key(cell)


def preview_import(
    *, data: bytes, filename: str, programme_id: int, today: date | None = None
) -> ImportPreview:
    """Parse and check the file; saves nothing. Raises ImportFileError for an unusable file."""
    today = today or date.today()
    kind = detect_kind(data, filename)
    header, records = read_table(data, kind)
    columns, ignored = map_headers(header)
    if not records:
        raise ImportFileError(_("The file has a header row but no rows of people."))
    municipalities = municipality_matcher()
    rows = []
    for number, cells in records:
        values = {
            name: cells[index]
            for index, name in columns.items()
            if index < len(cells) and not _blank(cells[index])
        }
        rows.append(_parse_row(number, values, municipalities, today))
    _mark_duplicates_in_file(rows)
    _resolve_institutions(rows)
    _match_people(rows)
    _note_participants(rows, programme_id)
    return ImportPreview(
        kind=kind, columns=list(columns.values()), ignored_columns=ignored, rows=rows
    )


# --- Saving --------------------------------------------------------------------------------


def _by_id(model, ids: set[int]) -> dict:
    """Load the rows at once: the preview keeps ids only, and a get() each would be a query each."""
    if not ids:
        return {}
    return {item.id: item for item in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}


def _institution_for(row: ImportRow, known: dict, created: dict) -> Institution | None:
    data = row.data
    if row.institution_id:
        return known[row.institution_id]
    if not data.institution:
        return None
    key = (normalize_name(data.institution), data.municipality_id)
    if key not in created:
        created[key] = services.create_institution(
            name=data.institution,
            municipality_id=data.municipality_id,
            type_=data.institution_type
            or services.DEFAULT_INSTITUTION_TYPE[data.target_group or TargetGroup.OTHER],
        )
    return created[key]


def _new_person(data: PersonData, institution: Institution | None) -> Person:
    person = Person(
        first_name=data.first_name,
        last_name=data.last_name,
        email=data.email,
        phone=data.phone,
        sex=data.sex or Sex.UNDISCLOSED,
        birth_year=data.birth_year,
        municipality_id=data.municipality_id,
        institution=institution,
        position=data.position,
        department=data.department,
        target_group=data.target_group or TargetGroup.OTHER,
        # Donors disaggregate by sex, age and municipality: a manager completes what is missing.
        needs_review=not (data.sex and data.birth_year and data.municipality_id),
    )
    db.session.add(person)
    return person


def apply_import(*, preview: ImportPreview, programme_id: int) -> ImportResult:
    """Save the preview's valid rows and add each person to the programme; flushes only."""
    result = ImportResult(skipped=preview.error_rows)
    rows = preview.valid_rows
    matched = _by_id(Person, {r.matched_person_id for r in rows if r.matched_person_id})
    known = _by_id(Institution, {r.institution_id for r in rows if r.institution_id})
    created_institutions: dict = {}
    people = []
    for row in rows:
        institution = _institution_for(row, known, created_institutions)
        if row.matched_person_id is None:
            people.append(_new_person(row.data, institution))
            result.created += 1
            continue
        person = matched[row.matched_person_id]
        for attribute in row.fill_fields:
            if attribute == "institution_id":
                person.institution = institution
            else:
                setattr(person, attribute, getattr(row.data, attribute))
        result.updated += bool(row.fill_fields)
        people.append(person)
    db.session.flush()
    already = set(
        db.session.scalars(
            sa.select(ProgrammeParticipant.person_id).where(
                ProgrammeParticipant.programme_id == programme_id,
                ProgrammeParticipant.person_id.in_([p.id for p in people]),
            )
        )
    )
    # The people are distinct and their ids known: flushing before each check would only
    # turn one batched insert into thousands of single ones.
    with db.session.no_autoflush:
        for person in people:
            if person.id not in already:
                add_participant(programme_id=programme_id, person=person)
                result.added += 1
    db.session.flush()
    return result


# --- The uploaded file between preview and confirmation ------------------------------------


def upload_folder(instance_path: str) -> Path:
    folder = Path(instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def valid_token(token: str | None) -> bool:
    return bool(token) and TOKEN_PATTERN.fullmatch(token) is not None


def store_upload(*, folder: Path, data: bytes, kind: str) -> str:
    """Keep the uploaded bytes on the server; the browser only gets the random token."""
    purge_stale_uploads(folder)
    token = secrets.token_urlsafe(32)
    path = folder / f"{token}.{kind}"
    path.write_bytes(data)
    path.chmod(0o600)
    return token


def load_upload(*, folder: Path, token: str) -> tuple[bytes, str] | None:
    if not valid_token(token):
        return None
    for kind in KINDS:
        path = folder / f"{token}.{kind}"
        if path.is_file():
            return path.read_bytes(), kind
    return None


def discard_upload(*, folder: Path, token: str) -> None:
    if valid_token(token):
        for kind in KINDS:
            (folder / f"{token}.{kind}").unlink(missing_ok=True)


def purge_stale_uploads(folder: Path, max_age: int = STALE_UPLOAD_SECONDS) -> None:
    """Previews that were never confirmed leave files behind; a day later they go."""
    limit = time.time() - max_age
    for path in folder.iterdir():
        if path.suffix.lstrip(".") in KINDS and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def template_csv() -> bytes:
    """English headers and one example row, UTF-8 with BOM so Excel shows ë ç č ć š ž đ."""
    example = [
        "Šejla",
        "Çeku-Đorđević",
        "sejla.ceku@example.org",
        "F",
        "1990",
        "Gjakovë",
        "Komuna e Gjakovës",
        "municipality",
        "Računarska službenica",
        "Drejtoria për Shërbime Publike",
        "municipal_official",
        "+383 44 123 456",
    ]
    out = io.StringIO()
    # Semicolons: Excel set to Albanian or Serbian expects them, and the import reads both.
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerow(example)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")

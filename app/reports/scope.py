"""What a report counts over (programme and dates) and how its numbers are broken down.

Dates are calendar days in Europe/Belgrade; timestamps are stored as naive UTC, so a day
range becomes the UTC instants of local midnights. A course run belongs to the period in
which it ends (its participants' outcome is known then); sessions, activities and
certificates to the period in which they happened.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.courses.models import CourseRun
from app.people.models import AGE_BAND_BOUNDS, Institution, Person
from app.places.models import Municipality, Region

LOCAL = ZoneInfo("Europe/Belgrade")
UNKNOWN = "unknown"


def _utc(day: date) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=LOCAL)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


@dataclass(frozen=True)
class Scope:
    programme_id: int
    starts_on: date
    ends_on: date
    threshold: int  # percent of a course's sessions that makes someone "trained"
    now: datetime  # sessions after it have not been held yet
    # Temporary tables of rows reused within one report (app/reports/materialise.py).
    tables: dict[str, sa.Table] | None = field(default=None, compare=False, repr=False)

    @property
    def start(self) -> datetime:
        return _utc(self.starts_on)

    @property
    def end(self) -> datetime:
        """Exclusive: local midnight after the last day, or now if that is earlier."""
        return min(_utc(self.ends_on + timedelta(days=1)), self.now)

    def runs(self) -> sa.Select:
        """Ids of the programme's runs that end within the period."""
        return sa.select(CourseRun.id).where(
            CourseRun.programme_id == self.programme_id,
            CourseRun.ends_on >= self.starts_on,
            CourseRun.ends_on <= self.ends_on,
        )


# --- Dimensions ------------------------------------------------------------------------------
# Each subject (what a measure counts) reaches the dimensions through different columns.
# `joins` adds the tables a dimension needs to a select whose subject id is `subject_id`.


def age_band(on: date) -> sa.ColumnElement:
    """The band on the period's last day from the birth year; else the band given; else unknown."""
    age = on.year - Person.birth_year
    whens = [(age.between(low, high), band.value) for band, (low, high) in AGE_BAND_BOUNDS.items()]
    return sa.case(
        (Person.birth_year.is_(None), sa.func.coalesce(Person.age_band, UNKNOWN)),
        *whens,
        else_=UNKNOWN,
    )


def _or_unknown(column) -> sa.ColumnElement:
    return sa.func.coalesce(sa.cast(column, sa.String), UNKNOWN)


def person_dimension(dimension: str, on: date) -> sa.ColumnElement:
    return {
        "sex": _or_unknown(Person.sex),
        "age_band": age_band(on),
        "municipality": _or_unknown(Municipality.code),
        "region": _or_unknown(Region.code),
        "institution_type": _or_unknown(Institution.type),
        "target_group": _or_unknown(Person.target_group),
    }[dimension]


def join_person(select: sa.Select, subject_id) -> sa.Select:
    """The person, their municipality and region, their institution: outer joins, so
    people with a field not recorded (or anonymous answers) count as "unknown", not dropped."""
    return (
        select.outerjoin(Person, Person.id == subject_id)
        .outerjoin(Municipality, Municipality.id == Person.municipality_id)
        .outerjoin(Region, Region.id == Municipality.region_id)
        .outerjoin(Institution, Institution.id == Person.institution_id)
    )


def join_place(select: sa.Select, municipality_id) -> sa.Select:
    return select.outerjoin(Municipality, Municipality.id == municipality_id).outerjoin(
        Region, Region.id == Municipality.region_id
    )


def place_dimension(dimension: str) -> sa.ColumnElement | None:
    return {"municipality": _or_unknown(Municipality.code), "region": _or_unknown(Region.code)}.get(
        dimension
    )

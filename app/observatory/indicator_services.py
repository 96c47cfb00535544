"""Writes of the municipal indicators: one record per municipality and year, replaced when
entered again (by hand or by import). Flushes, never commits."""

from dataclasses import dataclass, fields
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.places.models import Municipality

from .models import (
    BILINGUAL_LABELS,
    MATURITY_LABELS,
    MATURITY_LEVELS,
    Bilingual,
    MunicipalIndicator,
)
from .services import check_year


@dataclass
class IndicatorValues:
    """None: not measured."""

    online_services: int | None = None
    service_maturity: int | None = None
    transparency_score: int | None = None
    bilingual: Bilingual | None = None
    open_datasets: int | None = None


INDICATORS = tuple(f.name for f in fields(IndicatorValues))
NOT_MEASURED = "—"


def display_value(name: str, value) -> str:
    """An indicator's value as people read it; a dash when not measured."""
    if value is None:
        return NOT_MEASURED
    if name == "bilingual":
        return str(BILINGUAL_LABELS[Bilingual(value)])
    if name == "service_maturity" and value in MATURITY_LABELS:
        return str(MATURITY_LABELS[value])
    return str(value)


MAX_COUNT = 1_000_000


def indicator_problems(
    values: IndicatorValues, *, given: tuple[str, ...] = INDICATORS
) -> list[tuple[str, str]]:
    """Every broken rule as (field, message); `given` names the indicators being set."""
    problems = []
    if values.online_services is not None and values.online_services < 0:
        problems.append(("online_services", _("The number of online services cannot be negative.")))
    if values.service_maturity is not None and values.service_maturity not in MATURITY_LEVELS:
        problems.append(("service_maturity", _("The service maturity level goes from 0 to 4.")))
    if values.transparency_score is not None and not 0 <= values.transparency_score <= 100:
        problems.append(("transparency_score", _("The transparency score goes from 0 to 100.")))
    if values.open_datasets is not None and values.open_datasets < 0:
        problems.append(("open_datasets", _("The number of open datasets cannot be negative.")))
    for name in ("online_services", "open_datasets"):
        # Counts beyond any municipality's reach would not even fit the database column.
        if (getattr(values, name) or 0) > MAX_COUNT:
            problems.append((name, _("Enter a number no larger than %(num)d.", num=MAX_COUNT)))
    if all(getattr(values, name) is None for name in given):
        problems.append((given[0], _("Enter at least one indicator.")))
    return problems


def apply_indicators(
    record: MunicipalIndicator,
    values: IndicatorValues,
    *,
    given: tuple[str, ...] = INDICATORS,
    by: User | None,
) -> bool:
    """Copy checked values onto the record; True when something changed. Indicators not
    in `given` keep their value."""
    by_id = by.id if by else None  # read before any change: it may load, and so autoflush
    changed = False
    for name in given:
        value = getattr(values, name)
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    if changed or record.id is None:
        record.updated_by_id = by_id
    return changed


def save_indicators(
    *,
    municipality: Municipality,
    year: int,
    values: IndicatorValues,
    by: User | None,
    today: date | None = None,
) -> MunicipalIndicator:
    """Record the municipality's indicators for the year, replacing any recorded before."""
    check_year(year, today=today)
    problems = indicator_problems(values)
    if problems:
        field, message = problems[0]
        raise DomainError(message, field=field)
    record = db.session.scalar(
        sa.select(MunicipalIndicator).where(
            MunicipalIndicator.municipality_id == municipality.id,
            MunicipalIndicator.year == year,
        )
    )
    if record is None:
        record = MunicipalIndicator(municipality_id=municipality.id, year=year)
        db.session.add(record)
    apply_indicators(record, values, by=by)
    db.session.flush()
    return record

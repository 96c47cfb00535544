"""Municipal scorecards: every municipality's e-government indicators for a year, with totals
and regional averages computed in SQL."""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.i18n import CONTENT_SUFFIX, current_locale
from app.places.models import Municipality, Region
from app.text import normalize_name

from .models import MunicipalIndicator


@dataclass
class Scorecard:
    """A municipality's indicators for a year (None: not measured), with last year's beside."""

    municipality_id: int
    code: str
    name: str
    region_code: str
    region: str
    online_services: int | None = None
    service_maturity: int | None = None
    transparency_score: int | None = None
    bilingual: str | None = None
    open_datasets: int | None = None
    previous_online_services: int | None = None
    previous_transparency_score: int | None = None
    has_data: bool = False

    @property
    def transparency_change(self) -> int | None:
        if self.transparency_score is None or self.previous_transparency_score is None:
            return None
        return self.transparency_score - self.previous_transparency_score


REGION_NAME = {"en": Region.name_en, "sq": Region.name_sq, "sr": Region.name_sr}


def scorecards(year: int, *, locale: str | None = None) -> list[Scorecard]:
    """All 38 municipalities, with or without data, by region and name; one query."""
    now = so.aliased(MunicipalIndicator)
    before = so.aliased(MunicipalIndicator)
    suffix = CONTENT_SUFFIX.get(locale or current_locale(), "en")
    rows = db.session.execute(
        sa.select(
            Municipality.id,
            Municipality.code,
            Municipality.name_sq,
            Municipality.name_sr,
            Region.code,
            REGION_NAME[suffix],
            now.id,
            now.online_services,
            now.service_maturity,
            now.transparency_score,
            now.bilingual,
            now.open_datasets,
            before.online_services,
            before.transparency_score,
        )
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(now, sa.and_(now.municipality_id == Municipality.id, now.year == year))
        .outerjoin(
            before, sa.and_(before.municipality_id == Municipality.id, before.year == year - 1)
        )
    )
    cards = []
    for mid, code, name_sq, name_sr, region_code, region, record_id, *values in rows:
        cards.append(
            Scorecard(
                mid,
                code,
                name_sq if name_sq == name_sr else f"{name_sq}/{name_sr}",
                region_code,
                region,
                *values,
                has_data=record_id is not None,
            )
        )
    # In Python: SQL collations order "Kamenicë" and "Kaçanik" by raw code points.
    return sorted(cards, key=lambda c: (normalize_name(c.region), normalize_name(c.name)))


def _number(value) -> int | None:
    """SQL sums come back as Decimal on PostgreSQL; NULL when nobody measured it."""
    return None if value is None else int(value)


def _mean(value) -> float | None:
    return None if value is None else round(float(value), 1)


@dataclass
class IndicatorSummary:
    """Totals and means over the municipalities measured; None when none measured it."""

    year: int
    municipalities: int = 0  # with a record for the year
    online_services: int | None = None
    maturity_average: float | None = None
    transparency_average: float | None = None
    transparency_measured: int = 0
    bilingual_full: int = 0
    bilingual_partial: int = 0
    bilingual_no: int = 0
    open_datasets: int | None = None


def indicator_summary(years: list[int]) -> dict[int, IndicatorSummary]:
    """Totals and averages over the municipalities measured, per year; one query."""
    mi = MunicipalIndicator
    rows = db.session.execute(
        sa.select(
            mi.year,
            sa.func.count(mi.id),
            sa.func.sum(mi.online_services),
            sa.func.avg(mi.service_maturity),
            sa.func.avg(mi.transparency_score),
            sa.func.count(mi.transparency_score),
            sa.func.count(mi.id).filter(mi.bilingual == "full"),
            sa.func.count(mi.id).filter(mi.bilingual == "partial"),
            sa.func.count(mi.id).filter(mi.bilingual == "no"),
            sa.func.sum(mi.open_datasets),
        )
        .where(mi.year.in_(years))
        .group_by(mi.year)
    )
    result = {year: IndicatorSummary(year) for year in years}
    for year, count, services, maturity, transparency, measured, *counts, datasets in rows:
        result[year] = IndicatorSummary(
            year,
            count,
            _number(services),
            _mean(maturity),
            _mean(transparency),
            measured,
            *counts,
            _number(datasets),
        )
    return result


@dataclass
class RegionAverage:
    code: str
    name: str
    transparency_average: float | None
    online_services: int | None


def region_averages(year: int, *, locale: str | None = None) -> list[RegionAverage]:
    """Each region's mean transparency score and total online services for the year."""
    suffix = CONTENT_SUFFIX.get(locale or current_locale(), "en")
    mi = MunicipalIndicator
    rows = db.session.execute(
        sa.select(
            Region.code,
            REGION_NAME[suffix],
            sa.func.avg(mi.transparency_score),
            sa.func.sum(mi.online_services),
        )
        .join(Municipality, Municipality.region_id == Region.id)
        .outerjoin(mi, sa.and_(mi.municipality_id == Municipality.id, mi.year == year))
        .group_by(Region.code, REGION_NAME[suffix])
    )
    regions = [
        RegionAverage(code, name, _mean(avg), _number(total)) for code, name, avg, total in rows
    ]
    return sorted(regions, key=lambda r: normalize_name(r.name))

"""Reference data for places: Kosovo's regions and municipalities, seeded from files."""

import csv
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from app.errors import Conflict
from app.extensions import db
from app.text import normalize_name

from .models import Municipality, Region

DATA = Path(__file__).parent / "data"


def seed_places() -> tuple[int, int]:
    """Insert or update the 7 regions and 38 municipalities from the data files (idempotent)."""
    regions = {r.code: r for r in db.session.scalars(sa.select(Region))}
    with (DATA / "regions.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            region = regions.get(row["code"]) or Region(code=row["code"])
            region.name_sq, region.name_sr, region.name_en = (
                row["name_sq"],
                row["name_sr"],
                row["name_en"],
            )
            db.session.add(region)
            regions[row["code"]] = region
    existing = {m.code: m for m in db.session.scalars(sa.select(Municipality))}
    count = 0
    with (DATA / "municipalities.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            municipality = existing.get(row["code"]) or Municipality(code=row["code"])
            municipality.region = regions[row["region"]]
            municipality.name_sq, municipality.name_sr = row["name_sq"], row["name_sr"]
            municipality.name_en = row["name_en"]
            # Variants added by administrators are kept alongside the shipped ones.
            shipped = [v for v in row["variants"].split("|") if v]
            current = [v for v in (municipality.variants or "").split("|") if v]
            municipality.variants = "|".join(dict.fromkeys(shipped + current))
            db.session.add(municipality)
            count += 1
    db.session.flush()
    return len(regions), count


def update_variants(municipality: Municipality, variants: list[str]) -> None:
    """Replace the spellings that imports accept; one spelling cannot name two municipalities."""
    cleaned = list(dict.fromkeys(v.strip() for v in variants if v.strip()))
    keys = {normalize_name(v): v for v in cleaned}
    for other in db.session.scalars(
        sa.select(Municipality).where(Municipality.id != municipality.id)
    ):
        clash = keys.keys() & other.name_keys()
        if clash:
            raise Conflict(
                _(
                    "“%(name)s” already names %(other)s.",
                    name=keys[clash.pop()],
                    other=other.display_name,
                ),
                field="variants",
            )
    municipality.variants = "|".join(cleaned)

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.text import normalize_name

from .models import Municipality, Region


def municipality_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(sa.select(Municipality))
    # Sorted in Python: SQL collations put "Kamenicë" before "Kaçanik" (raw code points).
    return sorted(((m.id, m.display_name) for m in rows), key=lambda c: normalize_name(c[1]))


def municipality_id_from_choice(value) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


def regions_with_municipalities() -> list[Region]:
    return list(
        db.session.scalars(
            sa.select(Region)
            .options(so.selectinload(Region.municipalities))
            .order_by(Region.name_sq)
        )
    )


def municipality_matcher() -> dict[str, Municipality]:
    """Every known spelling, folded, mapped to its municipality (for imports)."""
    lookup = {}
    for municipality in db.session.scalars(sa.select(Municipality)):
        for key in municipality.name_keys():
            lookup[key] = municipality
    return lookup

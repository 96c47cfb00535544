"""Names of dimensions and of their values, in the current locale (wrap in force_locale)."""

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.people.models import (
    INSTITUTION_TYPE_LABELS,
    SEX_LABELS,
    TARGET_GROUP_LABELS,
    AgeBand,
)
from app.places.models import Municipality, Region

from .scope import UNKNOWN


def dimension_label(dimension: str) -> str:
    return {
        "sex": _("Sex"),
        "age_band": _("Age group"),
        "municipality": _("Municipality"),
        "region": _("Region"),
        "institution_type": _("Institution type"),
        "target_group": _("Target group"),
    }[dimension]


def _bilingual(row) -> str:
    return row.name_sq if row.name_sq == row.name_sr else f"{row.name_sq}/{row.name_sr}"


def for_dimension(dimension: str) -> dict[str, str]:
    if dimension == "sex":
        names = {k.value: str(v) for k, v in SEX_LABELS.items()}
    elif dimension == "age_band":
        names = {band.value: band.value.replace("-", "–") for band in AgeBand}
    elif dimension == "institution_type":
        names = {k.value: str(v) for k, v in INSTITUTION_TYPE_LABELS.items()}
    elif dimension == "target_group":
        names = {k.value: str(v) for k, v in TARGET_GROUP_LABELS.items()}
    else:
        # Official names in both languages, as Kosovo's institutions write them.
        model = Municipality if dimension == "municipality" else Region
        rows = db.session.execute(sa.select(model.code, model.name_sq, model.name_sr)).all()
        names = {row.code: _bilingual(row) for row in rows}
    names[UNKNOWN] = _("Not recorded")
    return names


_ORDER = {
    "sex": [k.value for k in SEX_LABELS],
    "age_band": [band.value for band in AgeBand],
    "institution_type": [k.value for k in INSTITUTION_TYPE_LABELS],
    "target_group": [k.value for k in TARGET_GROUP_LABELS],
}


def sort_key(dimension: str, key: str) -> tuple:
    """The enum's own order (female, male, …; youngest band first); places by code; unknown last."""
    if key == UNKNOWN:
        return (2, 0, "")
    order = _ORDER.get(dimension)
    if order and key in order:
        return (0, order.index(key), "")
    return (1, 0, key)

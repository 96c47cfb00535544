"""The training programmes' results for a calendar year, as the observatory report shows them."""

from datetime import date, datetime

import sqlalchemy as sa

from app.extensions import db
from app.programmes.models import Programme

from .aggregate import TOTAL, compute
from .materialise import reused
from .measures import MEASURES
from .scope import Scope

YEAR_MEASURES = (
    "people_trained",
    "participations",
    "training_hours",
    "municipalities_reached",
    "certificates_issued",
    "knowledge_mean_gain",
    "satisfaction_share",
)


def year_results(year: int, now: datetime) -> list[dict]:
    """Per programme running in the year: the headline measures over the year, plain values."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    programmes = db.session.scalars(
        sa.select(Programme)
        .where(Programme.starts_on <= last, Programme.ends_on >= first)
        .order_by(Programme.starts_on, Programme.code)
    ).all()
    results = []
    for programme in programmes:
        scope = Scope(programme.id, first, last, programme.attendance_threshold, now)
        with reused(scope) as reusing:
            values = {key: compute(MEASURES[key], reusing)[TOTAL].value for key in YEAR_MEASURES}
        results.append(
            {
                "code": programme.code,
                "name": programme.name,
                "donor": programme.donor,
                "measures": [
                    {
                        "key": key,
                        "label": str(MEASURES[key].label),
                        "unit": MEASURES[key].unit.value,
                        "value": values[key],
                    }
                    for key in YEAR_MEASURES
                ],
            }
        )
    return results

"""How report numbers and codes read on pages and in the PDF (filters for the templates)."""

from flask_babel import format_decimal
from flask_babel import gettext as _

from .measures import MEASURES
from .models import LEVEL_LABELS, IndicatorLevel


def indicator_value(value, unit) -> str:
    if value is None:
        return "—"
    if str(unit) == "percent":
        return f"{format_decimal(round(value, 1), '#,##0.0')} %"
    return format_decimal(round(value, 2), "#,##0.##")


def indicator_level(level) -> str:
    return str(LEVEL_LABELS[IndicatorLevel(str(level))])


def measure_label(key: str) -> str:
    measure = MEASURES.get(key)
    return str(measure.label) if measure else _("Entered by hand")


FILTERS = {
    "indicator_value": indicator_value,
    "indicator_level": indicator_level,
    "measure_label": measure_label,
}

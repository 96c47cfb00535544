"""What the Observatory's views share: the year and language asked for in the query string."""

from flask import abort, request

from app.i18n import LOCALES, current_locale

from . import queries
from .services import MIN_YEAR, local_today


def requested_year(default: int | None = None) -> int:
    """?year=, else the default or the newest year with data; a year the Observatory cannot
    hold data for is a 404."""
    year = request.args.get("year", type=int)
    if year is None:
        return default or queries.latest_year()
    if not MIN_YEAR <= year <= local_today().year:
        abort(404)
    return year


def requested_locale() -> str:
    """?lang= (en, sq or sr_Latn), else the interface's language."""
    lang = request.args.get("lang") or current_locale()
    if lang not in LOCALES:
        abort(404)
    return lang

"""Jinja globals and filters: formatting only, no queries and no rules."""

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal

from .i18n import LOCALE_NAMES, current_locale
from .markdown import render_markdown


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        LOCALE_NAMES=LOCALE_NAMES,
        current_locale=current_locale,
    )
    app.jinja_env.filters.update(
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        number=lambda value: format_decimal(value) if value is not None else "",
        markdown=lambda text: render_markdown(text or ""),
    )

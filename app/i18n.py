"""Locales of the interface and of translated content."""

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

# Interface locales; plain "sr" in a browser means Cyrillic, which we do not offer, so
# Serbian speakers get the Latin script (the script used in Kosovo's Serbian-language offices).
LOCALES = ("en", "sq", "sr_Latn")
LOCALE_NAMES = {"en": "English", "sq": "Shqip", "sr_Latn": "Srpski"}
# Column suffix for translated content fields.
CONTENT_SUFFIX = {"en": "en", "sq": "sq", "sr_Latn": "sr"}


def _from_header() -> str | None:
    for value, _quality in request.accept_languages:
        tag = value.replace("-", "_").lower()
        if tag.startswith("sq"):
            return "sq"
        if tag.startswith("sr") or tag.startswith("bs") or tag.startswith("hr"):
            return "sr_Latn"
        if tag.startswith("en"):
            return "en"
    return None


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return _from_header() or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    locale = str(get_locale() or "en")
    return locale if locale in LOCALES else "en"


class Localized:
    """Mixin for models with <field>_en / _sq / _sr columns: falls back to English."""

    def localized(self, field: str, locale: str | None = None) -> str:
        suffix = CONTENT_SUFFIX.get(locale or current_locale(), "en")
        return getattr(self, f"{field}_{suffix}") or getattr(self, f"{field}_en") or ""

"""Text helpers shared by imports and searches."""

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter plus a mark.
_FOLD = str.maketrans({"đ": "dj", "Đ": "dj", "ø": "o", "ł": "l", "ß": "ss"})


def normalize_name(value: str | None) -> str:
    """Fold case, diacritics and spacing so "Gjakovë", "GJAKOVE" and "gjakove " compare equal."""
    if not value:
        return ""
    folded = value.translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", folded)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s\-_.,/]+", " ", stripped.casefold()).strip()


def normalize_email(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    return value.lower() or None

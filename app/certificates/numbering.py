"""Certificate numbers (AK-2026-000123) and verification codes (unguessable, easy to type).

A number comes from a counter row per year, incremented with one UPDATE … RETURNING inside
the claiming transaction: concurrent claims wait on the row (PostgreSQL) or the write lock
(SQLite) and never get the same number. A claim that rolls back gives its number back; a
number may still be skipped (a row deleted by hand), which the scheme tolerates.
"""

import re
import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db

from .models import CertificateCounter

PREFIX = "AK"
NUMBER = re.compile(r"^AK-(\d{4})-(\d{6,})$")
# Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 4
GROUP_LENGTH = 5  # 20 symbols × 5 bits = 100 random bits
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def format_number(year: int, serial: int) -> str:
    return f"{PREFIX}-{year}-{serial:06d}"


def next_serial(year: int) -> int:
    """The next serial of the year, taken atomically; call it inside the claiming transaction."""
    counter = CertificateCounter.__table__
    bump = (
        sa.update(counter)
        .where(counter.c.year == year)
        .values(last_number=counter.c.last_number + 1)
        .returning(counter.c.last_number)
    )
    serial = db.session.execute(bump).scalar()
    if serial is None:
        # The year's first certificate: create the row; a concurrent first claim may win.
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(counter).values(year=year, last_number=0))
        except IntegrityError:
            pass
        serial = db.session.execute(bump).scalar_one()
    return serial


def allocate_number(year: int) -> str:
    return format_number(year, next_serial(year))


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_GROUPS * GROUP_LENGTH))
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH))


def normalize_code(value: str | None) -> str | None:
    """The stored form of a code as typed: case, spaces, dashes and look-alike letters forgiven."""
    if not value:
        return None
    symbols = re.sub(r"[\s\-_.]", "", value.upper()).translate(_TYPO)
    if len(symbols) != CODE_GROUPS * GROUP_LENGTH or any(c not in ALPHABET for c in symbols):
        return None
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH))

"""Hostile values for form fields, chosen by the field's WTForms type.

Every strategy mixes plausible values (the field's own choices, the value the rendered form
carries) with the ones that break code: empty, very long, Albanian/Serbian letters, right-to-
left text, NUL bytes, lone surrogates written out, huge and negative numbers, impossible dates.
"""

import io
import zipfile

from hypothesis import strategies as st
from wtforms import fields as wtf

NASTY_TEXT = [
    "",
    " ",
    "ë ç č ć š ž đ Ë Ç Č Ć Š Ž Đ",
    "\u202eتحقق\u202c שלום",  # right-to-left override and RTL scripts
    "a\x00b",
    "\\ud800\\udfff",  # surrogates, escaped (a lone surrogate cannot be sent as UTF-8)
    "x" * 10_000,
    "ë" * 3_000,
    "<script>alert(1)</script>",
    "'; DROP TABLE person; --",
    "%s %(name)s {0} {{x}}",
    "\r\n\t",
    "0",
    "-1",
    "1e309",
    "NaN",
    "null",
]
NASTY_NUMBERS = [
    "",
    "0",
    "-1",
    "-2147483649",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999999",
    "1e309",
    "-1e309",
    "inf",
    "-inf",
    "NaN",
    "1.5",
    "1,5",
    "0x10",
    "١٢",  # Arabic-Indic digits: int() accepts them
    "１２",  # full-width digits
    " 7 ",
    "abc",
]
NASTY_DATES = [
    "",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "2026-13-01",
    "-0001-01-01",
    "2026-12-01T25:61",
    "2026-12-01T09:00",
    "2026-12-01 09:00",
    "0000-00-00T00:00",
    "9999-12-31T23:59",
    "1970-01-01T00:00",
    "31.12.2026",
    "today",
]


def text() -> st.SearchStrategy[str]:
    """Arbitrary text without lone surrogates (a browser cannot send them) plus the nasty list."""
    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    )


def number_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_NUMBERS),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


def date_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_DATES),
        st.dates().map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    )


def _xlsx_like(payload: bytes) -> bytes:
    """A zip that claims to be a workbook but carries junk."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", payload)
        archive.writestr("xl/workbook.xml", payload)
    return buffer.getvalue()


def file_upload() -> st.SearchStrategy[tuple]:
    """(stream, filename, content type) as the test client sends files."""
    content = st.one_of(
        st.binary(max_size=2_000),
        st.sampled_from(
            [
                b"",
                b"\x00" * 100,
                "first_name,last_name\nArbëresha,Krasniqi\n".encode(),
                "first_name;last_name\nČedomir;Đukić\n".encode("cp1250"),
                b'\xef\xbb\xbfa,b\n"unclosed,quote\n',
                b"PK\x03\x04not really a zip",
                b"%PDF-1.7\n%junk",
                b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
                b"::Q1:: What? {=yes ~no}\n",
                b"::Q1:: What? {#\n}\n",
            ]
        ),
        st.binary(max_size=200).map(_xlsx_like),
        text().map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
    name = st.sampled_from(
        ["list.csv", "list.xlsx", "bank.gift", "bank.txt", "image.png", "", "a" * 300 + ".csv"]
    )
    mime = st.sampled_from(["text/csv", "application/octet-stream", "image/png", ""])
    return st.tuples(content, name, mime)


def for_field(field, plausible: list[str]) -> st.SearchStrategy:
    """Values for one form field: its own plausible values or something hostile for its type."""
    if isinstance(field, wtf.FileField):
        return file_upload()
    if isinstance(field, wtf.SelectFieldBase):
        choices = [str(value) for value, *_rest in _choices(field)]
        hostile = text() if not isinstance(field, wtf.SelectMultipleField) else st.lists(text())
        own = st.sampled_from(choices) if choices else text()
        if isinstance(field, wtf.SelectMultipleField):
            own = st.lists(st.sampled_from(choices), max_size=4) if choices else st.lists(text())
        return st.one_of(own, hostile, number_text())
    if isinstance(field, (wtf.IntegerField, wtf.DecimalField, wtf.FloatField)):
        hostile = number_text()
    elif isinstance(field, (wtf.DateField, wtf.DateTimeField, wtf.TimeField)):
        hostile = date_text()
    elif isinstance(field, wtf.BooleanField):
        hostile = st.sampled_from(["y", "on", "true", "", "false", "0"])
    else:
        hostile = text()
    if plausible:
        return st.one_of(st.sampled_from(plausible), hostile)
    return hostile


def _choices(field):
    try:
        choices = list(field.iter_choices())
    except (TypeError, ValueError):
        return []
    return [(c[0], c[1]) for c in choices]


def as_list_sometimes(value_strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A field sent once, twice (a list where a scalar is expected) or not at all."""
    return st.one_of(
        value_strategy,
        st.lists(value_strategy, min_size=2, max_size=3),
        st.none(),
    )

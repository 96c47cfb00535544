"""What an uploaded file is, judged by its bytes.

The name and the Content-Type come from the user's computer and say what the file is called,
not what it is: a photo renamed list.csv must be refused before an importer tries to read it.
Every FileField uses a validator from here; the importers call the same checks.
"""

import codecs
import io
import zipfile

import openpyxl
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from .errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
# A workbook is a zip: its declared unpacked size is checked before anything is unpacked.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old .xls, and password-protected workbooks
# [Content_Types].xml of an Excel workbook names its main part with one of these.
WORKBOOK_TYPES = (
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
)
# Formats people upload by mistake, by their first bytes.
SIGNATURES = (
    (b"%PDF-", _l("a PDF document")),
    (b"\x89PNG\r\n\x1a\n", _l("a PNG image")),
    (b"\xff\xd8\xff", _l("a JPEG image")),
    (b"GIF87a", _l("a GIF image")),
    (b"GIF89a", _l("a GIF image")),
    (b"\x1f\x8b", _l("a compressed archive")),
    (b"Rar!\x1a\x07", _l("a compressed archive")),
    (b"7z\xbc\xaf\x27\x1c", _l("a compressed archive")),
    (b"MZ", _l("a program")),
    (b"\x7fELF", _l("a program")),
)


class UploadError(DomainError):
    """The file as a whole is not of the kind asked for; nothing from it is used."""


def read(storage) -> bytes:
    """The upload's bytes (one more than the limit at most), leaving the stream at its start."""
    stream = storage.stream
    stream.seek(0)
    data = stream.read(MAX_BYTES + 1)
    stream.seek(0)
    return data


def known_binary(data: bytes) -> str | None:
    """What a file that is no text and no workbook looks like, for the message."""
    for magic, name in SIGNATURES:
        if data.startswith(magic):
            return str(name)
    return None


def _check_size(data: bytes) -> None:
    if not data or not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise UploadError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise UploadError(_("The file is larger than 5 MB. Split it into smaller files."))


# Letters of Albanian and Serbian Latin: a decoding that yields them is likelier right.
_REGIONAL = set("ëçčćšžđËÇČĆŠŽĐ")
# What the other Windows code page makes of the same bytes (è for č, æ for ć, ð for đ …).
_UNLIKELY = set("èæðÈÆÐ¹¾ŕĺ")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1250 or -1252."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise UploadError(_("The file could not be read as text.")) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    # On a tie the Central European page wins: it is what Windows uses for Albanian and Serbian.
    for preference, encoding in enumerate(("cp1252", "cp1250")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = sum(c in _REGIONAL for c in text) - sum(c in _UNLIKELY for c in text)
        candidates.append((score, preference, text))
    if not candidates:
        raise UploadError(_("The file could not be read as text."))
    return max(candidates)[2]


def looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\r\n")
    return "\x00" in sample or controls > len(sample) // 100


def check_text(data: bytes, *, utf8_only: bool = False) -> str:
    """The text of a CSV or plain-text upload; refuses images, PDFs, archives and binaries."""
    _check_size(data)
    found = known_binary(data) or (data.startswith((ZIP_MAGIC, OLE_MAGIC)) and _("an archive"))
    if found:
        raise UploadError(_("This file is %(kind)s, not a text file.", kind=found))
    if utf8_only:
        try:
            text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
        except UnicodeDecodeError as error:
            raise UploadError(_("The file is not UTF-8 text; save it as UTF-8.")) from error
    else:
        text = decode_text(data)
    if looks_binary(text):
        raise UploadError(_("The file is not a CSV text file. Upload a CSV or XLSX file."))
    return text


def check_workbook(data: bytes) -> None:
    """An Excel workbook: a zip with the OOXML content types that openpyxl can open."""
    _check_size(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise UploadError(_("The file is a zip archive, not an Excel workbook."))
            # zipfile never unpacks more than the sizes declared here, so they can be trusted.
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise UploadError(
                    _("The workbook is too large once unpacked. Split it into smaller files.")
                )
            with archive.open("[Content_Types].xml") as types:
                content_types = types.read(1024 * 1024)
            if not any(kind in content_types for kind in WORKBOOK_TYPES):
                raise UploadError(_("The file is a zip archive, not an Excel workbook."))
        openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).close()
    except UploadError:
        raise
    except Exception as error:  # zipfile and openpyxl fail in many ways on damaged files
        raise UploadError(_("The workbook could not be opened; it may be damaged.")) from error


def table_kind(data: bytes) -> str:
    """ "xlsx" or "csv" for a participant list, attendance sheet or indicator table."""
    _check_size(data)
    if data.startswith(ZIP_MAGIC):
        check_workbook(data)
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        raise UploadError(
            _(
                "This is an old Excel file (.xls) or a password-protected workbook. "
                "Save it as an Excel workbook (.xlsx) or as CSV and upload it again."
            )
        )
    found = known_binary(data)
    if found:
        raise UploadError(
            _("This file is %(kind)s. Upload a CSV file or an Excel workbook (.xlsx).", kind=found)
        )
    check_text(data)
    return "csv"


class _FileContent:
    """WTForms validator: the uploaded bytes pass `check`, whatever the file is called."""

    def __init__(self, check):
        self.check = check

    def __call__(self, form, field):
        upload = field.data
        if upload is None or not getattr(upload, "filename", None):
            return  # FileRequired, where the form has it, asks for a file
        try:
            self.check(read(upload))
        except UploadError as error:
            raise ValidationError(error.message) from error


def TableFile():  # noqa: N802 - reads as a validator class in the form
    """A CSV (UTF-8, UTF-16, Windows-1250/1252) or an Excel workbook (.xlsx)."""
    return _FileContent(table_kind)


def Utf8TextFile():  # noqa: N802
    """Plain UTF-8 text, such as a GIFT question file."""
    return _FileContent(lambda data: check_text(data, utf8_only=True))

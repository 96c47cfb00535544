"""A donor report as a spreadsheet (XLSX) and as long-form CSV, made from the plain Report only.

The caller wraps each call in force_locale(report.language): fixed headings and notes follow
the current locale, names and labels come translated inside the report.
"""

import codecs
import csv
import io
import re

import openpyxl
from flask_babel import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .data import DIMENSIONS, IndicatorResult, Report
from .models import LEVEL_LABELS, UNIT_LABELS

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8ECEF")
NOTE_FONT = Font(italic=True, color="595959")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
COUNT_FORMAT = "#,##0"
# Percentages are stored as fractions (0.456) so Excel treats them as percentages.
PERCENT_FORMAT = "0.0%"
HEADER_ROW = 5  # rows 1–3: title, programme details, suppression note
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# A text cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _suppression_note(report: Report) -> str:
    if not report.public:
        return _(
            "Internal report: no cells are suppressed. Do not publish it; public reports "
            "suppress small cells."
        )
    return _(
        "Public report: cells resting on fewer than %(n)d people (or answers, for "
        "percentages) are suppressed, and so is the next smallest cell wherever the total "
        "would reveal a single suppressed one. Suppressed cells read “suppressed”.",
        n=report.min_cell,
    )


def _details(report: Report) -> str:
    programme = report.programme
    return _(
        "Donor: %(donor)s · Grant: %(grant)s · Period: %(period)s (%(start)s – %(end)s)",
        donor=programme.donor,
        grant=programme.grant_code or "—",
        period=report.period_label,
        start=report.starts_on.isoformat(),
        end=report.ends_on.isoformat(),
    )


def _sheet_name(label: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = SHEET_NAME_FORBIDDEN.sub(" ", label).strip()[:31] or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def _put(sheet, row: int, column: int, value, number_format: str | None = None):
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # openpyxl would store it as a formula: keep user text as text
    if number_format:
        cell.number_format = number_format
    return cell


def _scaled(indicator: IndicatorResult, value: float | None) -> tuple[float | None, str]:
    if indicator.unit == "percent":
        return (None if value is None else value / 100), PERCENT_FORMAT
    return value, COUNT_FORMAT


def _heading(sheet, report: Report, title: str, headers: list[str], widths: list[int]) -> None:
    _put(sheet, 1, 1, title).font = TITLE_FONT
    _put(sheet, 2, 1, _details(report))
    _put(sheet, 3, 1, _suppression_note(report)).font = NOTE_FONT
    for column, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = _put(sheet, HEADER_ROW, column, header)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.row_dimensions[HEADER_ROW].height = 32
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=4)
    # Printed: landscape, one page wide, the header row on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _logframe(sheet, report: Report) -> None:
    headers = [
        _("Code"),
        _("Level"),
        _("Indicator"),
        _("Unit"),
        _("Baseline"),
        _("Baseline year"),
        _("Target (life of programme)"),
        _("Target (this period)"),
        _("Actual"),
        _("Target achieved (%)"),
        _("Measure"),
        _("Means of verification"),
        _("Evidence"),
    ]
    widths = [8, 10, 48, 12, 11, 10, 14, 14, 11, 10, 26, 40, 32]
    _heading(sheet, report, report.programme.name, headers, widths)
    for row, indicator in enumerate(report.indicators, start=HEADER_ROW + 1):
        level = LEVEL_LABELS.get(indicator.level, indicator.level)
        unit = UNIT_LABELS.get(indicator.unit, indicator.unit)
        texts = [indicator.code, str(level), indicator.title, str(unit)]
        for column, text in enumerate(texts, start=1):
            _put(sheet, row, column, text).alignment = WRAP if column == 3 else TOP
        baseline, number_format = _scaled(indicator, indicator.baseline_value)
        _put(sheet, row, 5, baseline, number_format)
        _put(sheet, row, 6, indicator.baseline_year)
        for column, value in ((7, indicator.target), (8, indicator.period_target)):
            _put(sheet, row, column, _scaled(indicator, value)[0], number_format)
        _put(sheet, row, 9, _scaled(indicator, indicator.actual)[0], number_format)
        share = indicator.percent_of_target
        _put(sheet, row, 10, None if share is None else share / 100, PERCENT_FORMAT)
        _put(sheet, row, 11, _("Manual") if indicator.manual else indicator.measure_label)
        _put(sheet, row, 12, indicator.means_of_verification).alignment = WRAP
        url = indicator.evidence_url or ""
        cell = _put(sheet, row, 13, url or None)
        # Only web links become clickable: a file: or javascript: link in a donor file is a trap.
        if url.startswith(("https://", "http://")):
            cell.hyperlink, cell.style = url, "Hyperlink"


def _breakdown(sheet, report: Report, dimension: str, label: str) -> None:
    indicators = [i for i in report.indicators if i.breakdowns.get(dimension)]
    columns: dict[str, str] = {}  # cell key -> label, in the order the report gives them
    for indicator in indicators:
        for cell in indicator.breakdowns[dimension]:
            columns.setdefault(cell.key, cell.label)
    headers = [_("Code"), _("Indicator"), _("Unit"), *columns.values(), _("Total")]
    widths = [8, 40, 12, *([12] * len(columns)), 11]
    title = f"{label} — {report.programme.name}"
    _heading(sheet, report, title, headers, widths)
    for row, indicator in enumerate(indicators, start=HEADER_ROW + 1):
        _put(sheet, row, 1, indicator.code)
        _put(sheet, row, 2, indicator.title).alignment = WRAP
        _put(sheet, row, 3, str(UNIT_LABELS.get(indicator.unit, indicator.unit)))
        cells = {cell.key: cell for cell in indicator.breakdowns[dimension]}
        for column, key in enumerate(columns, start=4):
            cell = cells.get(key)
            if cell is None:
                continue
            if cell.suppressed:
                _put(sheet, row, column, _("suppressed")).font = NOTE_FONT
            else:
                value, number_format = _scaled(indicator, cell.value)
                _put(sheet, row, column, value, number_format)
        # The indicator's own actual, not a sum: suppressed cells would make a sum wrong, and
        # for a percentage only the overall value means anything.
        total, number_format = _scaled(indicator, indicator.actual)
        _put(sheet, row, 4 + len(columns), total, number_format).font = HEADER_FONT


def xlsx_bytes(report: Report) -> bytes:
    """The logframe table on the first sheet, then one sheet per breakdown that has data."""
    workbook = openpyxl.Workbook()
    workbook.properties.title = report.programme.name
    workbook.properties.creator = report.programme.reporting_org_name
    taken: set[str] = set()
    sheet = workbook.active
    sheet.title = _sheet_name(_("Logframe"), taken)
    _logframe(sheet, report)
    for dimension in DIMENSIONS:
        if any(i.breakdowns.get(dimension) for i in report.indicators):
            label = report.dimension_labels.get(dimension, dimension)
            _breakdown(workbook.create_sheet(_sheet_name(label, taken)), report, dimension, label)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CSV_COLUMNS = (
    "indicator_code",
    "indicator_title",
    "period",
    "period_start",
    "period_end",
    "dimension",
    "dimension_value",
    "dimension_label",
    "value",
    "unit",
    "suppressed",
    "manual",
)


def _text(value: str) -> str:
    """Text as data: a leading apostrophe stops a spreadsheet running it as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _number(value: float | None) -> str:
    # Plain digits with a decimal point, whatever the locale: the file is data for tools.
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def csv_bytes(report: Report) -> bytes:
    """Long form: one row per indicator total and per breakdown cell. UTF-8 with a BOM and
    CRLF line ends, so Excel opens it with ë ç č ć š ž đ intact; comma-separated, with a
    decimal point, since this file is the machine-readable one (the XLSX is for reading)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    period = [_text(report.period_label), report.starts_on.isoformat(), report.ends_on.isoformat()]
    for indicator in report.indicators:
        start = [_text(indicator.code), _text(indicator.title), *period]
        end = [indicator.unit, "false", "true" if indicator.manual else "false"]
        writer.writerow([*start, "total", "", _text(_("Total")), _number(indicator.actual), *end])
        for dimension in DIMENSIONS:
            for cell in indicator.breakdowns.get(dimension, []):
                value = "" if cell.suppressed else _number(cell.value)
                flags = [
                    indicator.unit,
                    "true" if cell.suppressed else "false",
                    "true" if indicator.manual else "false",
                ]
                labels = [dimension, _text(cell.key), _text(cell.label)]
                writer.writerow([*start, *labels, value, *flags])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")

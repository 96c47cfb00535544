"""The donor report as XLSX (logframe + breakdown sheets) and as long-form CSV."""

import csv
import dataclasses
import io

import openpyxl
import pytest

from app.reports.data import Cell
from app.reports.exports import CSV_COLUMNS, csv_bytes, xlsx_bytes

from . import factories


def workbook(report=None) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx_bytes(report or factories.report())))


def rows_by_code(sheet) -> dict[str, list]:
    return {row[0].value: row for row in sheet.iter_rows(min_row=6) if row[0].value}


def csv_rows(report=None) -> list[dict]:
    data = csv_bytes(report or factories.report())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_xlsx_has_logframe_then_a_sheet_per_dimension_with_data():
    book = workbook()
    # No indicator is broken down by institution type, so it gets no sheet.
    assert book.sheetnames == [
        "Logframe",
        "Sex",
        "Age group",
        "Municipality",
        "Region",
        "Target group",
    ]


def test_xlsx_logframe_title_details_and_suppression_note():
    sheet = workbook()["Logframe"]
    assert sheet["A1"].value == "Aftësi digjitale për komunat — Digitalne veštine za opštine"
    assert sheet["A1"].font.bold
    details = sheet["A2"].value
    assert "Balkan Digital Trust" in details and "BDT-2026-014" in details
    assert "2026 Q1" in details and "2026-01-01" in details
    assert "fewer than 5 people" in sheet["A3"].value
    assert [c.value for c in sheet[5]][:4] == ["Code", "Level", "Indicator", "Unit"]
    assert all(c.font.bold for c in sheet[5])
    assert sheet.freeze_panes == "D6"
    assert sheet.column_dimensions["C"].width == 48
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$5:$5"


def test_xlsx_internal_report_says_nothing_is_suppressed():
    sheet = workbook(factories.report(public=False, min_cell=0))["Logframe"]
    assert "no cells are suppressed" in sheet["A3"].value


def test_xlsx_logframe_rows_carry_numbers_with_formats():
    rows = rows_by_code(workbook()["Logframe"])
    assert list(rows) == ["1.1", "1.2", "2.1", "2.2", "3.1"]
    trained = [c.value for c in rows["1.1"]]
    assert trained[1:4] == [
        "Output",
        "Municipal officials trained (attended at least 80% of sessions)",
        "Number",
    ]
    assert trained[4:9] == [0, 2025, 400, 100, 87]
    assert rows["1.1"][8].number_format == "#,##0"
    assert rows["1.1"][9].value == pytest.approx(0.87)
    assert rows["1.1"][9].number_format == "0.0%"
    assert trained[10] == "People trained"
    # A percentage indicator is stored as a fraction shown as a percentage.
    share = rows["2.1"]
    assert share[3].value == "Percentage"
    assert share[8].value == pytest.approx(0.784) and share[8].number_format == "0.0%"
    assert share[4].value == pytest.approx(0.55)


def test_xlsx_logframe_marks_manual_values_and_links_evidence():
    rows = rows_by_code(workbook()["Logframe"])
    manual = rows["2.2"]
    assert manual[10].value == "Manual"
    assert manual[12].value == "https://observatory.example.org/2026/e-services-review.pdf"
    assert manual[12].hyperlink.target == manual[12].value
    # No value yet: empty cells, not zeros.
    assert rows["3.1"][8].value is None and rows["3.1"][9].value is None


def test_xlsx_only_web_links_become_hyperlinks():
    indicator = dataclasses.replace(
        factories.improved_services(), evidence_url="file:///C:/Users/secret.xlsx"
    )
    rows = rows_by_code(workbook(factories.report(indicators=[indicator]))["Logframe"])
    assert rows["2.2"][12].value == "file:///C:/Users/secret.xlsx"
    assert rows["2.2"][12].hyperlink is None


def test_xlsx_breakdown_sheet_shows_suppressed_cells_as_text_and_the_total():
    sheet = workbook()["Sex"]
    header = [c.value for c in sheet[5]]
    assert header == [
        "Code",
        "Indicator",
        "Unit",
        "Female",
        "Male",
        "Not disclosed",
        "Not recorded",
        "Total",
    ]
    rows = rows_by_code(sheet)
    assert list(rows) == ["1.1", "2.1"]
    trained = [c.value for c in rows["1.1"]]
    assert trained[3:] == [46, 35, "suppressed", "suppressed", 87]
    assert trained[-1] == factories.trained_officials().actual
    share = rows["2.1"]
    assert share[3].value == pytest.approx(0.81) and share[3].number_format == "0.0%"
    assert share[7].value == pytest.approx(0.784)
    assert share[6].value is None  # 2.1 has no "not recorded" cell


def test_xlsx_keeps_diacritics():
    sheet = workbook()["Municipality"]
    header = [c.value for c in sheet[5]]
    for name in ("Gjakovë/Đakovica", "Leposaviq/Leposavić", "Zveçan/Zvečan", "Shtërpcë/Štrpce"):
        assert name in header
    assert "Mitrovicë e Jugut/Južna Mitrovica" in header


def test_xlsx_sheet_names_are_short_valid_and_unique():
    labels = {
        **factories.DIMENSION_LABELS,
        "municipality": "Komuna/Opština e banimit të pjesëmarrësit: [lista]",
        "region": "Komuna/Opština e banimit të pjesëmarrësit: [lista]",
    }
    names = workbook(factories.report(dimension_labels=labels)).sheetnames
    assert all(len(name) <= 31 for name in names)
    assert not any(ch in name for name in names for ch in "[]:*?/\\")
    assert len(set(names)) == len(names)


def test_xlsx_keeps_formula_like_text_as_text():
    indicator = dataclasses.replace(factories.participations(), title='=HYPERLINK("http://x","y")')
    sheet = workbook(factories.report(indicators=[indicator]))["Logframe"]
    cell = rows_by_code(sheet)["1.2"][2]
    assert cell.value == '=HYPERLINK("http://x","y")'
    assert cell.data_type == "s"


def test_csv_is_utf8_with_bom_and_crlf():
    data = csv_bytes(factories.report())
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert "Gjakovë/Đakovica".encode() in data


def test_csv_long_form_has_a_total_and_a_row_per_cell():
    rows = csv_rows()
    assert list(rows[0]) == list(CSV_COLUMNS)
    report = factories.report()
    cells = sum(len(cells) for i in report.indicators for cells in i.breakdowns.values())
    assert len(rows) == len(report.indicators) + cells
    total = next(r for r in rows if r["indicator_code"] == "1.1" and r["dimension"] == "total")
    assert total["value"] == "87" and total["dimension_label"] == "Total"
    assert (total["period"], total["period_start"], total["period_end"]) == (
        "2026 Q1",
        "2026-01-01",
        "2026-03-31",
    )
    female = next(
        r for r in rows if r["indicator_code"] == "1.1" and r["dimension_value"] == "female"
    )
    assert (
        female["dimension"] == "sex" and female["value"] == "46" and female["suppressed"] == "false"
    )
    assert (
        sum(
            int(r["value"])
            for r in rows
            if r["indicator_code"] == "1.1" and r["dimension"] == "region"
        )
        == 87
    )


def test_csv_suppressed_cells_have_no_value():
    rows = [r for r in csv_rows() if r["suppressed"] == "true"]
    assert {r["dimension_value"] for r in rows} >= {"zvecan", "leposaviq", "65+", "15-24"}
    assert all(r["value"] == "" for r in rows)
    zvecan = next(r for r in rows if r["dimension_value"] == "zvecan")
    assert zvecan["dimension_label"] == "Zveçan/Zvečan"


def test_csv_percentages_units_and_manual_flags():
    rows = csv_rows()
    share = next(r for r in rows if r["indicator_code"] == "2.1" and r["dimension"] == "total")
    assert share["value"] == "78.4" and share["unit"] == "percent" and share["manual"] == "false"
    manual = next(r for r in rows if r["indicator_code"] == "2.2")
    assert manual["manual"] == "true" and manual["value"] == "4"
    missing = next(r for r in rows if r["indicator_code"] == "3.1")
    assert missing["value"] == ""


def test_csv_defuses_formulas_but_not_negative_numbers():
    indicator = dataclasses.replace(
        factories.participations(),
        title="=SUM(A1:A9)",
        actual=-3,
        breakdowns={
            "target_group": [
                Cell("@cso", "+Civil society", 5),
                Cell("media", "-Media\tpeople", -2),
            ]
        },
    )
    rows = csv_rows(factories.report(indicators=[indicator]))
    assert {r["indicator_title"] for r in rows} == {"'=SUM(A1:A9)"}
    assert rows[0]["value"] == "-3"
    assert rows[1]["dimension_value"] == "'@cso" and rows[1]["dimension_label"] == "'+Civil society"
    assert rows[2]["dimension_label"] == "'-Media\tpeople" and rows[2]["value"] == "-2"

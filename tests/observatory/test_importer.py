"""The import of municipal indicators, called directly: reading, checking, previewing, saving."""

import codecs
import io

import openpyxl
import pytest
import sqlalchemy as sa

from app.errors import DomainError
from app.extensions import db
from app.observatory import importer
from app.observatory.importer import ImportFileError, Outcome, apply_preview, preview_indicators
from app.observatory.models import Bilingual, MunicipalIndicator
from tests.observatory.helpers import TODAY

HEADER = (
    "municipality,year,online_services,service_maturity,transparency_score,bilingual,open_datasets"
)


def csv_bytes(lines: list[str], bom=False) -> bytes:
    data = "\r\n".join(lines).encode("utf-8")
    return codecs.BOM_UTF8 + data if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def preview(data: bytes, filename="indicators.csv"):
    return preview_indicators(data=data, filename=filename, today=TODAY)


def records() -> dict[tuple[str, int], MunicipalIndicator]:
    rows = db.session.scalars(sa.select(MunicipalIndicator))
    return {(r.municipality.code, r.year): r for r in rows}


def test_a_good_csv_is_previewed_then_saved():
    data = csv_bytes(
        [
            HEADER,
            "Gjakovë,2025,14,3,62,partial,5",
            "Prishtinë,2025,30,4,80,full,12",
        ]
    )
    result = preview(data)
    assert result.kind == "csv"
    assert result.given == importer.INDICATORS
    assert [(r.number, r.outcome, r.problems) for r in result.rows] == [
        (2, Outcome.NEW, []),
        (3, Outcome.NEW, []),
    ]
    assert result.rows[0].municipality_name == "Gjakovë/Đakovica"
    assert result.rows[0].shown[4] == "5"
    assert records() == {}  # the preview saves nothing
    saved = apply_preview(preview=result, by=None)
    assert (saved.created, saved.updated, saved.unchanged) == (2, 0, 0)
    gjakove = records()[("gjakove", 2025)]
    assert (gjakove.online_services, gjakove.service_maturity) == (14, 3)
    assert (gjakove.transparency_score, gjakove.open_datasets) == (62, 5)
    assert gjakove.bilingual == Bilingual.PARTIAL


def test_semicolons_bom_albanian_headers_and_every_spelling_of_a_municipality():
    data = csv_bytes(
        [
            "Komuna;Viti;Shërbime online;Transparenca;Dygjuhësia;Të dhëna të hapura",
            "GRAÇANICË;2025;9;48;po;0",
            "Gllogoc;2025;3;41;jo;1",  # Drenas, by the variant still in use
            "fushe-kosove;2025;7;55;pjesërisht;2",  # by code
            "Uroševac;2025;11;60;da;3",  # Ferizaj, by its Serbian name
            "Dardanë;2025;-;—;;",  # Kamenicë: placeholders mean not measured …
        ],
        bom=True,
    )
    result = preview(data)
    assert result.given == ("online_services", "transparency_score", "bilingual", "open_datasets")
    names = [r.municipality_name for r in result.rows]
    assert names == [
        "Graçanicë/Gračanica",
        "Drenas/Glogovac",
        "Fushë Kosovë/Kosovo Polje",
        "Ferizaj/Uroševac",
        "Kamenicë/Kamenica",
    ]
    # … and a row that measured nothing is refused.
    assert [r.number for r in result.error_rows] == [6]
    assert result.error_rows[0].problems == ["Enter at least one indicator."]
    assert [r.values.bilingual for r in result.rows[:4]] == [
        Bilingual.FULL,
        Bilingual.NO,
        Bilingual.PARTIAL,
        Bilingual.FULL,
    ]


def test_xlsx_with_numeric_cells():
    data = xlsx_bytes(
        [
            ["Municipality", "Year", "Online services", "Service maturity", "Transparency score"],
            ["Pejë", 2025, 17.0, 2, 58],
            ["Zveçan", 2024, 4, 1, None],
        ]
    )
    result = preview(data, filename="indicators.xlsx")
    assert result.kind == "xlsx"
    assert [r.problems for r in result.rows] == [[], []]
    apply_preview(preview=result, by=None)
    saved = records()
    assert saved[("peje", 2025)].online_services == 17
    assert saved[("zvecan", 2024)].transparency_score is None


def test_bad_rows_are_reported_with_their_row_numbers_and_nothing_is_saved():
    data = csv_bytes(
        [
            HEADER,
            "Gjakovë,2025,14,3,62,partial,5",
            "Atlantis,2025,1,1,1,no,1",
            "Pejë,2025,12,5,120,full,2",
            "Klinë,2025,abc,2,30,maybe,-4",
            "Istog,2031,1,1,1,no,1",
            "Deçan,,1,1,1,no,1",
            "Gjakova,2025,15,3,64,partial,5",
        ]
    )
    result = preview(data)
    problems = {r.number: r.problems for r in result.rows}
    assert problems[2] == []
    assert problems[3] == ["Unknown municipality “Atlantis”."]
    assert problems[4] == [
        "The service maturity level goes from 0 to 4.",
        "The transparency score goes from 0 to 100.",
    ]
    assert problems[5] == [
        "“abc” under Online services is not a whole number.",
        "“maybe” under Bilingual website: write full, partial or no.",
        "The number of open datasets cannot be negative.",
    ]
    assert problems[6] == ["Choose a year between 2010 and 2026."]
    assert problems[7] == ["The year is missing."]
    assert problems[8] == ["Row 2 already gives Gjakovë/Đakovica for 2025."]
    assert result.count(Outcome.ERROR) == 6
    with pytest.raises(DomainError, match="nothing was saved"):
        apply_preview(preview=result, by=None)
    assert records() == {}


def test_reimporting_a_year_updates_instead_of_duplicating():
    first = csv_bytes([HEADER, "Gjakovë,2025,14,3,62,partial,5", "Prizren,2025,20,3,70,full,4"])
    apply_preview(preview=preview(first), by=None)
    db.session.commit()
    again = csv_bytes([HEADER, "Gjakovë,2025,16,3,62,partial,5", "Prizren,2025,20,3,70,full,4"])
    result = preview(again)
    assert [r.outcome for r in result.rows] == [Outcome.UPDATE, Outcome.SAME]
    assert result.rows[0].changes == ["Online services: 14 → 16"]
    saved = apply_preview(preview=result, by=None)
    assert (saved.created, saved.updated, saved.unchanged) == (0, 1, 1)
    assert len(records()) == 2
    assert records()[("gjakove", 2025)].online_services == 16


def test_a_column_left_out_keeps_its_values_and_an_empty_cell_clears_one():
    apply_preview(preview=preview(csv_bytes([HEADER, "Gjakovë,2025,14,3,62,partial,5"])), by=None)
    data = csv_bytes(["municipality;year;transparency_score;open_datasets", "Gjakovë;2025;66;"])
    result = preview(data)
    assert result.rows[0].changes == [
        "Website transparency score: 62 → 66",
        "Open datasets: 5 → —",
    ]
    apply_preview(preview=result, by=None)
    record = records()[("gjakove", 2025)]
    assert (record.online_services, record.transparency_score, record.open_datasets) == (
        14,
        66,
        None,
    )


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "x.csv", "The file is empty"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "x.xls", "old Excel file"),
        (b"%PDF-1.7 ...", "x.pdf", "Upload a CSV file or an Excel workbook"),
        (b"municipality,online_services\r\nPeje,4", "x.csv", "must name the columns"),
        (b"municipality,year\r\nPeje,2025", "x.csv", "must name the columns"),
        (HEADER.encode(), "x.csv", "no rows of municipalities"),
        (b"x" * (5 * 1024 * 1024 + 1), "x.csv", "larger than 5 MB"),
    ],
)
def test_unusable_files_are_refused_whole(data, filename, message):
    with pytest.raises(ImportFileError, match=message):
        preview(data, filename)


def test_the_template_lists_the_38_municipalities_and_reads_back():
    data = importer.template_csv(2025)
    assert data.startswith(codecs.BOM_UTF8)
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == ";".join(importer.TEMPLATE_COLUMNS)
    assert len(lines) == 39
    assert "Gjakovë/Đakovica;2025;;;;;" in lines
    # Every name in it is recognised; the rows only lack their values.
    result = preview(data)
    assert len({r.municipality_id for r in result.rows if r.municipality_id}) == 38
    assert {tuple(r.problems) for r in result.rows} == {("Enter at least one indicator.",)}

"""IATI 2.03 activity XML: valid against the official schema, one period per report,
disaggregations as dimensions, suppressed cells left out."""

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from app.reports.iati import iati_xml

from . import factories

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "iati" / "iati-activities-schema.xsd"
GENERATED = datetime(2026, 7, 10, 12, 0, 5)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def build(reports=None, programme=None) -> bytes:
    reports = reports if reports is not None else [factories.report(), factories.second_quarter()]
    programme = programme or factories.programme_info()
    return iati_xml(programme, reports, generated_at=GENERATED)


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))


def indicator(root, code: str):
    return next(
        i for i in root.iter("indicator") if i.findtext("title/narrative").startswith(code + " ")
    )


def test_schema_files_are_iati_2_03():
    for name in ("iati-activities-schema.xsd", "iati-common.xsd"):
        text = (SCHEMA.parent / name).read_text(encoding="utf-8")
        assert 'version="2.03"' in text and "Release 2.03" in text
        assert text.rstrip().endswith("</xsd:schema>")
    assert 'schemaLocation="xml.xsd"' in (SCHEMA.parent / "iati-common.xsd").read_text()


def test_iati_validates_against_the_2_03_schema(schema):
    document = parse(build())
    schema.assertValid(document)
    assert document.get("version") == "2.03"
    assert document.get("generated-datetime") == "2026-07-10T12:00:05"


def test_iati_single_period_and_internal_report_validate(schema):
    schema.assertValid(parse(build([factories.report()])))
    programme = factories.programme_info(grant_code=None)
    schema.assertValid(parse(build([factories.report(public=False, min_cell=0)], programme)))


def test_iati_activity_describes_programme_and_organisations():
    activity = parse(build()).find("iati-activity")
    assert activity.findtext("iati-identifier") == "XK-ARBK-811234567-DIG-KS-26"
    reporting = activity.find("reporting-org")
    assert (reporting.get("ref"), reporting.get("type")) == ("XK-ARBK-811234567", "22")
    assert reporting.findtext("narrative") == "Qendra për Ndryshim Digjital"
    assert activity.findtext("title/narrative") == factories.programme_info().name
    roles = {o.get("role"): o.findtext("narrative") for o in activity.findall("participating-org")}
    assert roles == {"1": "Balkan Digital Trust", "4": "Qendra për Ndryshim Digjital"}
    assert activity.find("activity-status").get("code") == "2"  # under way in July 2026
    dates = {d.get("type"): d.get("iso-date") for d in activity.findall("activity-date")}
    assert dates == {"1": "2026-01-01", "3": "2027-12-31"}
    assert activity.get("last-updated-datetime") == "2026-07-06T08:00:00"


def test_iati_groups_indicators_by_result_level_with_measures():
    results = parse(build()).find("iati-activity").findall("result")
    assert [r.get("type") for r in results] == ["1", "2", "3"]
    codes = [
        [i.findtext("title/narrative").split(" ")[0] for i in r.findall("indicator")]
        for r in results
    ]
    assert codes == [["1.1", "1.2"], ["2.1", "2.2"], ["3.1"]]
    measures = {
        i.findtext("title/narrative").split(" ")[0]: i.get("measure")
        for r in results
        for i in r.findall("indicator")
    }
    assert measures == {"1.1": "1", "1.2": "1", "2.1": "2", "2.2": "1", "3.1": "2"}


def test_iati_baseline_only_when_year_and_value_are_known():
    root = parse(build())
    baseline = indicator(root, "2.1").find("baseline")
    assert (baseline.get("year"), baseline.get("value")) == ("2025", "55")
    assert indicator(root, "1.2").find("baseline") is None
    assert indicator(root, "3.1").find("baseline") is None


def test_iati_one_period_per_report_with_its_target_and_actual():
    trained = indicator(parse(build()), "1.1")
    periods = trained.findall("period")
    assert len(periods) == 2
    starts = [p.find("period-start").get("iso-date") for p in periods]
    assert starts == ["2026-01-01", "2026-04-01"]
    assert [p.find("period-end").get("iso-date") for p in periods] == ["2026-03-31", "2026-06-30"]
    assert [p.find("target").get("value") for p in periods] == ["100", "120"]
    totals = [
        a.get("value") for p in periods for a in p.findall("actual") if a.find("dimension") is None
    ]
    assert totals == ["87", "131"]


def test_iati_reports_are_ordered_by_period_whatever_the_order_given():
    reports = [factories.second_quarter(), factories.report()]
    periods = indicator(parse(build(reports)), "1.1").findall("period")
    assert [p.find("period-start").get("iso-date") for p in periods] == ["2026-01-01", "2026-04-01"]


def test_iati_each_visible_cell_is_an_actual_with_one_dimension():
    first = indicator(parse(build()), "1.1").findall("period")[0]
    split = [a for a in first.findall("actual") if a.find("dimension") is not None]
    assert all(len(a.findall("dimension")) == 1 for a in split)
    shown = {
        (a.find("dimension").get("name"), a.find("dimension").get("value")): a.get("value")
        for a in split
    }
    expected = sum(
        1
        for cells in factories.trained_officials().breakdowns.values()
        for c in cells
        if not c.suppressed
    )
    assert len(shown) == expected == 15
    assert shown[("Sex", "Female")] == "46"
    assert shown[("Age group", "30–44")] == "38"
    assert shown[("Municipality", "Gjakovë/Đakovica")] == "12"
    assert shown[("Region", "Mitrovicë/Mitrovica")] == "25"


def test_iati_leaves_out_suppressed_cells_and_missing_values():
    data = build()
    text = data.decode("utf-8")
    for hidden in (
        "Zveçan/Zvečan",
        "Leposaviq/Leposavić",
        "Not disclosed",
        "Not recorded",
        "65+",
        "15–24",
    ):
        assert hidden not in text
    root = parse(data)
    applied = indicator(root, "3.1").findall("period")
    assert applied[0].find("actual") is None  # no survey answers yet in Q1
    assert applied[1].find("actual").get("value") == "52.5"
    assert all(p.find("target") is None for p in applied)  # no target for the period


def test_iati_indicator_missing_from_a_period_gets_no_period_there():
    reports = [
        factories.report(),
        dataclasses.replace(factories.second_quarter(), indicators=[factories.participations()]),
    ]
    root = parse(build(reports))
    assert len(indicator(root, "1.2").findall("period")) == 2
    assert len(indicator(root, "2.1").findall("period")) == 1


def test_iati_requires_an_identifier():
    programme = factories.programme_info(iati_identifier=None)
    with pytest.raises(ValueError, match="IATI activity identifier"):
        build(programme=programme)
    with pytest.raises(ValueError, match="reporting organisation"):
        build(programme=factories.programme_info(reporting_org_ref=None))
    with pytest.raises(ValueError, match="at least one report"):
        build(reports=[])


def test_iati_escapes_text_and_keeps_diacritics(schema):
    programme = factories.programme_info(name="Shkathtësi <digjitale> & “Štrpce”")
    root = parse(build(programme=programme))
    schema.assertValid(root)
    assert root.findtext("iati-activity/title/narrative") == "Shkathtësi <digjitale> & “Štrpce”"

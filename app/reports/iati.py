"""A programme's results as an IATI 2.03 activity file (one <iati-activity>, one <period> per
report), in the element order the 2.03 schema requires.

Disaggregation follows the standard's meaning of <dimension>: an <actual> with a dimension
holds the value for that category only, so each breakdown cell is its own <actual> next to
the undivided total. Suppressed and missing values are left out, never written as zero.
"""

from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from flask_babel import force_locale

from .data import DIMENSIONS, IndicatorResult, ProgrammeInfo, Report
from .labels import dimension_label

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ORGANISATION_TYPE_NGO = "22"  # OrganisationType codelist: national NGO
ROLE_FUNDING, ROLE_IMPLEMENTING = "1", "4"  # OrganisationRole codelist
DATE_PLANNED_START, DATE_PLANNED_END = "1", "3"  # ActivityDateType codelist
# ActivityStatus codelist: 1 pipeline, 2 implementation, 3 finalisation (work done; closing
# the accounts, which Akademia does not know about, would make it 4).
STATUS_PIPELINE, STATUS_IMPLEMENTATION, STATUS_FINALISATION = "1", "2", "3"
RESULT_TYPE = {"output": "1", "outcome": "2", "impact": "3"}  # ResultType codelist
RESULT_TITLE = {"output": "Outputs", "outcome": "Outcomes", "impact": "Impact"}
MEASURE = {"count": "1", "percent": "2"}  # IndicatorMeasure codelist: unit, percentage
LANGUAGE = {"en": "en", "sq": "sq", "sr_Latn": "sr"}  # report language -> ISO 639-1


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _narrative(parent: Element, tag: str, text: str, lang: str | None = None) -> Element:
    element = SubElement(parent, tag)
    narrative = SubElement(element, "narrative")
    if lang:
        narrative.set(XML_LANG, lang)
    narrative.text = text
    return element


def _status(programme: ProgrammeInfo, today) -> str:
    if today < programme.starts_on:
        return STATUS_PIPELINE
    return STATUS_IMPLEMENTATION if today <= programme.ends_on else STATUS_FINALISATION


def _dimension_names() -> dict[str, str]:
    # Donors and the IATI registry read English, whatever language the report is in.
    with force_locale("en"):
        return {dimension: str(dimension_label(dimension)) for dimension in DIMENSIONS}


def _indicators(reports: list[Report]) -> dict[str, list[tuple[Report, IndicatorResult]]]:
    """Each indicator code with its result in every report that has it, oldest period first."""
    found: dict[str, list[tuple[Report, IndicatorResult]]] = {}
    for report in sorted(reports, key=lambda r: r.starts_on):
        for indicator in report.indicators:
            found.setdefault(indicator.code, []).append((report, indicator))
    return found


def _period(parent: Element, report: Report, indicator: IndicatorResult, names: dict) -> None:
    period = SubElement(parent, "period")
    SubElement(period, "period-start").set("iso-date", report.starts_on.isoformat())
    SubElement(period, "period-end").set("iso-date", report.ends_on.isoformat())
    if indicator.period_target is not None:
        SubElement(period, "target").set("value", _number(indicator.period_target))
    if indicator.actual is not None:
        SubElement(period, "actual").set("value", _number(indicator.actual))
    for dimension in DIMENSIONS:
        for cell in indicator.breakdowns.get(dimension, []):
            if cell.suppressed or cell.value is None:
                continue
            actual = SubElement(period, "actual", value=_number(cell.value))
            SubElement(actual, "dimension", name=names[dimension], value=cell.label)


def _indicator(parent: Element, results: list[tuple[Report, IndicatorResult]], names) -> None:
    latest = results[-1][1]  # the newest wording of the indicator
    element = SubElement(parent, "indicator", measure=MEASURE[latest.unit])
    _narrative(element, "title", f"{latest.code} {latest.title}")
    if latest.means_of_verification:
        _narrative(element, "description", f"Means of verification: {latest.means_of_verification}")
    if latest.baseline_year is not None and latest.baseline_value is not None:
        SubElement(
            element,
            "baseline",
            year=str(latest.baseline_year),
            value=_number(latest.baseline_value),
        )
    for report, indicator in results:
        _period(element, report, indicator, names)


def iati_xml(programme: ProgrammeInfo, reports: list[Report], *, generated_at: datetime) -> bytes:
    """The IATI 2.03 activity file of a programme, with one result period per report.

    Raises ValueError when the programme has no IATI identifier or reporting-org reference.
    """
    if not programme.iati_identifier:
        raise ValueError("The programme has no IATI activity identifier; set it before exporting.")
    if not programme.reporting_org_ref:
        raise ValueError(
            "The reporting organisation has no IATI reference; set it before exporting."
        )
    if not reports:
        raise ValueError("IATI results need at least one report (one per reporting period).")
    language = LANGUAGE.get(reports[0].language, "en")
    root = Element("iati-activities", version=VERSION)
    root.set("generated-datetime", generated_at.isoformat(timespec="seconds"))
    last_updated = max(r.generated_at for r in reports).isoformat(timespec="seconds")
    activity = SubElement(root, "iati-activity", {"last-updated-datetime": last_updated})
    activity.set(XML_LANG, language)
    SubElement(activity, "iati-identifier").text = programme.iati_identifier
    reporting = _narrative(activity, "reporting-org", programme.reporting_org_name)
    reporting.attrib.update(ref=programme.reporting_org_ref, type=ORGANISATION_TYPE_NGO)
    _narrative(activity, "title", programme.name)
    description = f"{programme.name}, funded by {programme.donor}"
    if programme.grant_code:
        description += f" (grant {programme.grant_code})"
    _narrative(activity, "description", description + ".", "en").set("type", "1")
    _narrative(activity, "participating-org", programme.donor).set("role", ROLE_FUNDING)
    implementer = _narrative(activity, "participating-org", programme.reporting_org_name)
    implementer.attrib.update(
        ref=programme.reporting_org_ref, role=ROLE_IMPLEMENTING, type=ORGANISATION_TYPE_NGO
    )
    SubElement(activity, "activity-status", code=_status(programme, generated_at.date()))
    for kind, day in (
        (DATE_PLANNED_START, programme.starts_on),
        (DATE_PLANNED_END, programme.ends_on),
    ):
        SubElement(activity, "activity-date", {"iso-date": day.isoformat(), "type": kind})
    names = _dimension_names()
    indicators = _indicators(reports)
    for level, code in RESULT_TYPE.items():
        grouped = [found for found in indicators.values() if found[-1][1].level == level]
        if not grouped:
            continue
        result = SubElement(activity, "result", type=code)
        _narrative(result, "title", RESULT_TITLE[level], "en")
        for results in grouped:
            _indicator(result, results, names)
    indent(root)
    return tostring(root, encoding="utf-8", xml_declaration=True)

"""A computed Report as the page and the PDF show it: rows, breakdown tables and SVG charts.

Both the page and the PDF take what `present` returns, so the charts are the same in both.
Everything here is plain values (the PDF renderer refuses anything else).
"""

import dataclasses

from flask_babel import gettext as _

from app import charts

from .data import DIMENSIONS, IndicatorResult, Report

HEADLINE = "people_trained"


def _headline(report: Report) -> IndicatorResult | None:
    return next((i for i in report.indicators if i.measure == HEADLINE), None)


def _shown(cells) -> list:
    return [c for c in cells if not c.suppressed and c.value is not None]


def _charts(report: Report) -> dict:
    found = {}
    rows = [
        (
            f"{i.code} {i.title}",
            i.actual,
            i.period_target if i.period_target is not None else i.target,
        )
        for i in report.indicators
        if i.period_target is not None or i.target is not None
    ]
    if rows:
        found["progress"] = charts.progress_chart(rows, title=_("Progress against target"))
    headline = _headline(report)
    if headline is not None:
        by_sex = _shown(headline.breakdowns.get("sex", []))
        if by_sex:
            found["sex"] = charts.stacked_bar(
                [(c.label, c.value) for c in by_sex], title=_("People trained by sex")
            )
        places = headline.breakdowns.get("municipality", [])
        if places:
            found["municipalities"] = charts.municipality_grid(
                {c.key: c.value for c in places if not c.suppressed},
                title=_("People trained by municipality"),
            )
    return found


def _tables(indicator: IndicatorResult, labels: dict[str, str]) -> list[dict]:
    return [
        {
            "dimension": dimension,
            "label": labels[dimension],
            "cells": [dataclasses.asdict(c) for c in indicator.breakdowns[dimension]],
        }
        for dimension in DIMENSIONS
        if indicator.breakdowns.get(dimension)
    ]


def present(report: Report) -> dict:
    """The report, its breakdown tables per indicator and its charts, as plain values."""
    indicators = []
    for indicator in report.indicators:
        row = dataclasses.asdict(indicator)
        row["tables"] = _tables(indicator, report.dimension_labels)
        indicators.append(row)
    plain = dataclasses.asdict(report)
    plain["indicators"] = indicators
    plain["charts"] = _charts(report)  # Markup: SVG built with every label escaped
    return plain

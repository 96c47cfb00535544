"""The annual Observatory report: its values for a year and language, as plain values that both
the HTML page and the PDF (through app.pdf.render_pdf) are rendered from.

Everything is read and worded inside flask_babel.force_locale, so labels, chart titles and the
translated titles of measures come out in the report's language whatever the reader's own.
"""

from dataclasses import asdict
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from app import charts
from app.pdf import render_pdf
from app.reports.summary import year_results
from app.timeutil import utcnow

from . import progress, queries, scorecards
from .models import (
    BILINGUAL_LABELS,
    MATURITY_LABELS,
    STATUS_HELP,
    STATUS_LABELS,
    UPTAKE_LABELS,
    Bilingual,
    Status,
    Uptake,
)
from .services import local_today

HTML_LANG = {"en": "en", "sq": "sq", "sr_Latn": "sr-Latn"}
PDF_TEMPLATE = "pdf/observatory_report.html"


def _milestone(row: progress.MilestoneRow) -> dict:
    return {
        "code": row.code,
        "title": row.title,
        "responsible": row.responsible,
        "due_on": row.due_on,
        "status": row.status.value if row.status else "",
        "status_label": str(STATUS_LABELS[row.status]) if row.status else _("Not assessed"),
        "previous_label": (
            str(STATUS_LABELS[row.previous_status]) if row.previous_status else _("Not assessed")
        ),
        "evidence": row.evidence,
        "note": row.note or "",
        "assessor": row.assessor or "",
        "assessed_on": row.assessed_on,
        "overdue": row.overdue,
    }


def _shares(shares: progress.Shares) -> dict:
    return {
        "milestones": shares.milestones,
        "counts": {status.value: n for status, n in shares.counts.items()},
        "complete": shares.complete,
        "advanced": shares.advanced,
        "not_assessed": shares.not_assessed,
        "complete_rate": shares.complete_rate,
        "previous_complete_rate": shares.previous_complete_rate,
        "complete_change": shares.complete_change,
        "advanced_rate": shares.advanced_rate,
        "previous_advanced_rate": shares.previous_advanced_rate,
        "advanced_change": shares.advanced_change,
    }


def _measure(m: progress.MeasureProgress, milestones: list[dict]) -> dict:
    return {
        "code": m.code,
        "title": m.title,
        "responsible": m.responsible,
        **_shares(m),
        "rows": milestones,
    }


def _totals(measures: list[progress.MeasureProgress]) -> dict:
    """The measures' counts added up: shares over all their milestones, this year and last."""
    return _shares(progress.Shares.total(measures))


def _status_mix(totals: dict, title: str):
    segments = [(str(STATUS_LABELS[s]), totals["counts"][s.value]) for s in reversed(Status)]
    return charts.stacked_bar(segments + [(_("Not assessed"), totals["not_assessed"])], title=title)


def _strategies(year: int, locale: str) -> tuple[list[dict], dict]:
    measures = progress.measure_progress(year, locale=locale)
    items: dict[int, list[dict]] = {}
    for row in progress.milestone_rows(year, locale=locale):
        items.setdefault(row.measure_id, []).append(_milestone(row))
    result = []
    for strategy in queries.strategy_rows(locale):
        own = [m for m in measures if m.strategy_id == strategy.id]
        totals = _totals(own)
        result.append(
            {
                "code": strategy.code,
                "title": strategy.title,
                "years": f"{strategy.starts_year}–{strategy.ends_year}",
                "totals": totals,
                "measures": [_measure(m, items.get(m.measure_id, [])) for m in own],
                "chart": charts.bar_chart(
                    [(m.code, m.complete_rate) for m in own],
                    title=_("Milestones complete in %(year)d, by measure", year=year),
                    unit="%",
                    max_value=100,
                ),
                "status_chart": _status_mix(
                    totals, _("State of the milestones in %(year)d", year=year)
                ),
            }
        )
    return result, _totals(measures)


def _trend(year: int, total: int):
    """The share of all milestones rated complete, each year up to the report's."""
    items = [
        (str(row.year), queries.rate(row.complete, total))
        for row in progress.completion_by_year()
        if row.year <= year
    ]
    return charts.bar_chart(items, title=_("Milestones complete, by year"), unit="%", max_value=100)


def _scorecards(year: int, locale: str) -> list[dict]:
    regions: dict[str, dict] = {}
    for card in scorecards.scorecards(year, locale=locale):
        region = regions.setdefault(card.region_code, {"name": card.region, "municipalities": []})
        values = asdict(card)
        values["maturity_label"] = (
            str(MATURITY_LABELS[card.service_maturity]) if card.service_maturity is not None else ""
        )
        values["bilingual_label"] = (
            str(BILINGUAL_LABELS[Bilingual(card.bilingual)]) if card.bilingual else ""
        )
        values["transparency_change"] = card.transparency_change
        region["municipalities"].append(values)
    return list(regions.values())


def _municipal_charts(year: int, locale: str, regions: list[dict], summary: dict) -> dict:
    cards = [m for region in regions for m in region["municipalities"]]
    measured = summary["bilingual_full"] + summary["bilingual_partial"] + summary["bilingual_no"]
    return {
        "transparency_map": charts.municipality_grid(
            {m["code"]: m["transparency_score"] for m in cards},
            title=_("Website transparency score, %(year)d", year=year),
        ),
        "services_map": charts.municipality_grid(
            {m["code"]: m["online_services"] for m in cards},
            title=_("Online services, %(year)d", year=year),
        ),
        "regions": charts.bar_chart(
            [
                (r.name, r.transparency_average)
                for r in scorecards.region_averages(year, locale=locale)
            ],
            title=_("Average transparency score by region, %(year)d", year=year),
            max_value=100,
        ),
        "bilingual": charts.stacked_bar(
            [
                (str(BILINGUAL_LABELS[b]), summary[f"bilingual_{b.value}"])
                for b in reversed(Bilingual)
            ]
            + [(_("Not measured"), len(cards) - measured)],
            title=_("Municipal websites in both official languages, %(year)d", year=year),
        ),
    }


def _recommendations(year: int, locale: str) -> tuple[list[dict], list[dict]]:
    current = queries.recommendation_rows(year, uptake_year=year + 1, locale=locale)
    previous = queries.recommendation_rows(year - 1, uptake_year=year, locale=locale)
    made = [
        {
            "label": f"{r.year}/{r.number}",
            "number": r.number,
            "text": r.text,
            "addressed_to": r.addressed_to,
        }
        for r in current
    ]
    followed = [
        {
            "label": f"{r.year}/{r.number}",
            "number": r.number,
            "text": r.text,
            "addressed_to": r.addressed_to,
            "uptake": r.uptake or "",
            "uptake_label": str(UPTAKE_LABELS[Uptake(r.uptake)]) if r.uptake else _("Not assessed"),
            "note": r.uptake_note or "",
        }
        for r in previous
    ]
    return made, followed


def _uptake_chart(followed: list[dict], year: int):
    counts = {u: sum(1 for r in followed if r["uptake"] == u.value) for u in Uptake}
    segments = [(str(UPTAKE_LABELS[u]), counts[u]) for u in reversed(Uptake)]
    segments.append((_("Not assessed"), sum(1 for r in followed if not r["uptake"])))
    return charts.stacked_bar(
        segments, title=_("Uptake of the recommendations of %(year)d", year=year - 1)
    )


def report_context(*, year: int, locale: str, now: datetime | None = None) -> dict:
    """The report's values for the year in the locale (en, sq or sr_Latn): plain values only,
    the charts as SVG Markup, with the year's results of Akademia's own training programmes
    (sessions after `now` have not been held)."""
    with force_locale(locale):
        strategies, totals = _strategies(year, locale)
        regions = _scorecards(year, locale)
        summaries = scorecards.indicator_summary([year, year - 1])
        summary, previous_summary = asdict(summaries[year]), asdict(summaries[year - 1])
        made, followed = _recommendations(year, locale)
        return {
            "lang": HTML_LANG[locale],
            "locale": locale,
            "year": year,
            "previous_year": year - 1,
            "generated_on": local_today(),
            "totals": totals,
            "trend_chart": _trend(year, totals["milestones"]),
            "status_chart": _status_mix(
                totals, _("State of all milestones in %(year)d", year=year)
            ),
            "strategies": strategies,
            "regions": regions,
            "municipalities": sum(len(r["municipalities"]) for r in regions),
            "indicators": summary,
            "previous_indicators": previous_summary,
            "municipal_charts": _municipal_charts(year, locale, regions, summary),
            "recommendations": made,
            "followed_up": followed,
            "uptake_chart": _uptake_chart(followed, year) if followed else "",
            "status_scale": [
                {"label": str(STATUS_LABELS[s]), "help": str(STATUS_HELP[s])} for s in Status
            ],
            "maturity_scale": [str(label) for label in MATURITY_LABELS.values()],
            "training_results": year_results(year, now or utcnow()),
        }


def report_pdf(*, year: int, locale: str, now: datetime | None = None) -> bytes:
    """The annual report as an A4 PDF in the locale's language."""
    context = report_context(year=year, locale=locale, now=now)
    with force_locale(locale):
        return render_pdf(
            PDF_TEMPLATE,
            context,
            title=_("Digital Agenda Observatory: annual report %(year)d", year=year),
            subject=_(
                "The state of the Digital Agenda's measures, municipal scorecards and recommendations"
            ),
            lang=context["lang"],
        )

"""A report as a file: XLSX, long-form CSV, the PDF donor report or IATI activity XML."""

from flask_babel import force_locale
from flask_babel import gettext as _

from app.errors import DomainError
from app.pdf import render_pdf
from app.programmes.models import Programme
from app.timeutil import utcnow

from . import exports, iati
from .compute import compute_report
from .data import Report
from .models import ExportFormat
from .presenter import present

MEDIA = {
    ExportFormat.XLSX: (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    ExportFormat.CSV: ("text/csv; charset=utf-8", "csv"),
    ExportFormat.PDF: ("application/pdf", "pdf"),
    ExportFormat.IATI: ("application/xml", "xml"),
}


def file_name(report: Report) -> str:
    return f"{report.programme.code}-{report.starts_on.isoformat()}-{report.ends_on.isoformat()}"


def pdf_bytes(report: Report) -> bytes:
    with force_locale(report.language):
        context = present(report)
        title = _(
            "%(programme)s: report for %(period)s",
            programme=report.programme.name,
            period=report.period_label,
        )
        return render_pdf(
            "pdf/donor_report.html",
            {"report": context},
            title=title,
            author=report.programme.reporting_org_name,
            subject=_("Results against the logframe, for %(donor)s", donor=report.programme.donor),
            lang=report.language.replace("_", "-"),
        )


def _period_reports(programme: Programme) -> list[Report]:
    """For IATI: the programme's reporting periods that have begun, one report each."""
    today = utcnow().date()
    periods = sorted(
        (p for p in programme.periods if p.starts_on <= today), key=lambda p: p.starts_on
    )
    if not periods:
        raise DomainError(
            _("IATI reports results per reporting period: add the programme's periods first.")
        )
    return [
        compute_report(
            programme, starts_on=p.starts_on, ends_on=p.ends_on, language="en", public=True
        )
        for p in periods
    ]


def render(
    fmt: ExportFormat, report: Report, *, programme: Programme, frozen: bool = False
) -> bytes:
    """The file's bytes. A frozen report is rendered as it was computed; IATI of a live
    report covers every reporting period so far."""
    if fmt == ExportFormat.PDF:
        return pdf_bytes(report)
    if fmt == ExportFormat.IATI:
        if not report.programme.iati_identifier:
            raise DomainError(
                _(
                    "Give the programme its IATI activity identifier (on the programme's page) first."
                )
            )
        if not report.programme.reporting_org_ref:
            raise DomainError(
                _(
                    "Ask the administrator to set IATI_REPORTING_ORG_REF, your organisation's IATI identifier."
                )
            )
        reports = [report] if frozen else _period_reports(programme)
        return iati.iati_xml(report.programme, reports, generated_at=utcnow())
    with force_locale(report.language):
        if fmt == ExportFormat.XLSX:
            return exports.xlsx_bytes(report)
        return exports.csv_bytes(report)

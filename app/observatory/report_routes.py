"""The annual report, as a page and as a PDF, for a chosen year and language."""

from flask import Response, render_template
from flask_babel import force_locale

from app.auth.roles import Role
from app.i18n import LOCALE_NAMES
from app.security import role_required

from . import bp, queries
from .report import report_context, report_pdf
from .views import requested_locale, requested_year


@bp.route("/report")
@role_required(Role.MANAGER)
def report():
    year, locale = requested_year(), requested_locale()
    context = report_context(year=year, locale=locale)
    # The whole page in the report's language, so what is read matches what is printed.
    with force_locale(locale):
        return render_template(
            "observatory/report.html",
            **context,
            years=queries.years_with_data() or [year],
            languages=LOCALE_NAMES,
        )


@bp.route("/report.pdf")
@role_required(Role.MANAGER)
def report_download():
    year, locale = requested_year(), requested_locale()
    pdf = report_pdf(year=year, locale=locale)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="observatory-{year}-{locale}.pdf"'},
    )

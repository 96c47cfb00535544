"""The audit trail for administrators: search, page through, download as CSV."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import audit
from app.auth.roles import Role
from app.extensions import db
from app.security import role_required

from . import queries, views
from .forms import AuditFilterForm

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50
MAX_CSV_ROWS = 100_000


def _valid(field):
    return field.data if field.data and not field.errors else None


def _search() -> tuple[AuditFilterForm, queries.AuditFilters, dict]:
    form = AuditFilterForm(request.args)
    form.programme.choices = [("", _l("Any"))] + [
        (str(pid), label) for pid, label in queries.programme_choices()
    ]
    form.validate()
    programme = _valid(form.programme)
    filters = queries.AuditFilters(
        action=_valid(form.action),
        actor=(_valid(form.actor) or "").strip() or None,
        person=(_valid(form.person) or "").strip() or None,
        programme_id=int(programme) if programme else None,
        run_id=_valid(form.run),
        date_from=_valid(form.date_from),
        date_to=_valid(form.date_to),
    )
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return form, filters, args


@bp.route("")
@role_required(Role.ADMIN)
def index():
    form, filters, args = _search()
    before = request.args.get("before", type=int)
    rows, next_before = queries.page_of_events(filters, before_id=before, size=PER_PAGE)
    return render_template(
        "audit/index.html",
        form=form,
        events=[views.event_line(row) for row in rows],
        next_before=next_before,
        first_page=before is None,
        args=args,
    )


@bp.route("/export.csv")
@role_required(Role.ADMIN)
def export():
    _form, filters, args = _search()
    rows = db.session.execute(queries.events_query(filters).limit(MAX_CSV_ROWS + 1)).all()
    if len(rows) > MAX_CSV_ROWS:
        flash(
            _(
                "More than %(n)s events match: narrow the search (e.g. by dates) and download again.",
                n=format_decimal(MAX_CSV_ROWS),
            ),
            "error",
        )
        return redirect(url_for("audit.index", **args))
    content = views.to_csv(rows)  # before the commit, which would expire the rows read
    audit.record(
        "audit.export",
        subject_type="audit",
        subject_id=None,
        after={"format": "csv", "rows": len(rows), **filters.as_values()},
    )
    db.session.commit()
    response = Response(content, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response

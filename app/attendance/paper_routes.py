"""Paper and follow-up: sign-in sheets, the import of paper marks, the register, my attendance."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role
from app.enrollment.queries import roster
from app.errors import DomainError
from app.extensions import db
from app.pdf import render_pdf
from app.people import importer
from app.permissions import can_teach_run
from app.security import login_required, role_required
from app.timeutil import utcnow

from . import exports, marks_import
from .paper_forms import MarksConfirmForm, MarksUploadForm
from .queries import load_session

bp = Blueprint("paper", __name__)

BLANK_ROWS = 8  # empty rows at the end of a sign-in sheet, for walk-ins
MAX_BLANK_ROWS = 40
# "<run id>/<token>" of the mark uploads this browser may confirm; the file stays on the server.
IMPORT_TOKENS = "marks_import_tokens"


def _run_to_teach(run_id: int):
    run = exports.load_run(run_id) or abort(404)
    if not can_teach_run(current_user, run):
        abort(403)
    return run


def _download(data: bytes, mimetype: str, filename: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


@bp.route("/sessions/<int:session_id>/sign-in-sheet.pdf")
@role_required(Role.TRAINER, Role.MANAGER)
def sign_in_sheet(session_id):
    course_session = load_session(session_id) or abort(404)
    if not can_teach_run(current_user, course_session.run):
        abort(403)
    blank = min(max(request.args.get("blank", BLANK_ROWS, type=int), 0), MAX_BLANK_ROWS)
    sheet = exports.sign_in_sheet(course_session, roster(course_session.run_id), blank)
    pdf = render_pdf(
        "paper/sign_in_sheet.html",
        sheet,
        title=_(
            "Sign-in sheet: %(course)s, %(date)s", course=sheet["course_title"], date=sheet["date"]
        ),
        subject=sheet["programme"],
    )
    day = course_session.starts_at.strftime("%Y-%m-%d")
    return _download(pdf, "application/pdf", f"sign-in-{course_session.run_id}-{day}.pdf", True)


@bp.route("/runs/<int:run_id>/register")
@role_required(Role.TRAINER, Role.MANAGER)
def register(run_id):
    run = _run_to_teach(run_id)
    return render_template(
        "paper/register.html", run=run, view=exports.register_view(run, utcnow())
    )


@bp.route("/runs/<int:run_id>/register.xlsx")
@role_required(Role.TRAINER, Role.MANAGER)
def register_xlsx(run_id):
    run = _run_to_teach(run_id)
    data = exports.register_xlsx(exports.register_view(run, utcnow()))
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(data, mimetype, f"register-{run.id}.xlsx")


@bp.route("/runs/<int:run_id>/register.csv")
@role_required(Role.TRAINER, Role.MANAGER)
def register_csv(run_id):
    run = _run_to_teach(run_id)
    data = exports.register_csv(exports.register_view(run, utcnow()))
    return _download(data, "text/csv; charset=utf-8", f"register-{run.id}.csv")


@bp.route("/my-attendance")
@login_required
def my_attendance():
    courses = exports.learner_attendance(current_user.person_id, utcnow())
    return render_template("paper/my_attendance.html", courses=courses)


# --- Import of paper marks: upload and preview, then confirm --------------------------------


def _remember_token(run_id: int, token: str) -> None:
    session[IMPORT_TOKENS] = (session.get(IMPORT_TOKENS, []) + [f"{run_id}/{token}"])[-5:]


def _take_upload(run_id: int, token: str | None) -> tuple[bytes, str] | None:
    """What this browser uploaded for the run under the token; used once only."""
    entry = f"{run_id}/{token}"
    tokens = session.get(IMPORT_TOKENS, [])
    if not token or not importer.valid_token(token) or entry not in tokens:
        return None
    session[IMPORT_TOKENS] = [t for t in tokens if t != entry]
    folder = importer.upload_folder(current_app.instance_path)
    upload = importer.load_upload(folder=folder, token=token)
    importer.discard_upload(folder=folder, token=token)
    return upload


@bp.route("/runs/<int:run_id>/attendance/import", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def import_marks(run_id):
    run = _run_to_teach(run_id)
    form = MarksUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importer.MAX_BYTES + 1)
        try:
            preview = marks_import.preview_marks(
                data=data, filename=upload.filename or "", run=run, now=utcnow()
            )
        except DomainError as error:
            form.file.errors.append(error.message)
        else:
            folder = importer.upload_folder(current_app.instance_path)
            token = importer.store_upload(folder=folder, data=data, kind=preview.kind)
            _remember_token(run.id, token)
            return render_template(
                "paper/import_preview.html",
                run=run,
                preview=preview,
                form=MarksConfirmForm(token=token),
            )
    return render_template("paper/import_upload.html", run=run, form=form)


@bp.route("/runs/<int:run_id>/attendance/import/confirm", methods=["POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def import_marks_confirm(run_id):
    run = _run_to_teach(run_id)
    form = MarksConfirmForm()
    token = form.token.data if form.validate_on_submit() else None
    upload = _take_upload(run.id, token)
    if upload is None:
        flash(_("That upload has expired or was already used. Please upload it again."), "error")
        return redirect(url_for("paper.import_marks", run_id=run.id))
    if request.form.get("cancel"):
        flash(_("The import is cancelled; nothing was saved."), "info")
        return redirect(url_for("paper.import_marks", run_id=run.id))
    data, kind = upload
    now = utcnow()
    try:
        preview = marks_import.preview_marks(data=data, filename=f"upload.{kind}", run=run, now=now)
        result = marks_import.apply_marks(
            preview=preview, run=run, token=token, by=current_user, now=now
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("paper.import_marks", run_id=run.id))
    db.session.commit()
    return render_template("paper/import_result.html", run=run, result=result)

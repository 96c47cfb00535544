from datetime import timedelta

import click
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user

from app.auth.roles import Role
from app.courses.models import Course
from app.errors import DomainError, show_error
from app.extensions import db
from app.i18n import CONTENT_SUFFIX, current_locale
from app.permissions import can_teach_run
from app.security import login_required, role_required
from app.timeutil import utcnow

from . import gift, queries, services, views
from .forms import GiftImportForm, QuizForm
from .models import Attempt, QuestionBank, Quiz, QuizKind, ShowWhen

bp = Blueprint("quizzes", __name__, cli_group="quizzes")


def _grace() -> timedelta:
    return timedelta(seconds=current_app.config.get("QUIZ_GRACE_SECONDS", 30))


def _lang() -> str:
    return CONTENT_SUFFIX.get(current_locale(), "en")


def _staff_quiz(quiz_id: int) -> Quiz:
    quiz = queries.load_quiz(quiz_id) or abort(404)
    if not can_teach_run(current_user, quiz.run):
        abort(403)
    return quiz


def _own_attempt(attempt_id: int) -> Attempt:
    attempt = queries.load_attempt(attempt_id) or abort(404)
    if attempt.person_id != current_user.person_id:
        abort(403)
    return attempt


# --- learners -------------------------------------------------------------------------------


@bp.route("/runs/<int:run_id>/quizzes")
@login_required
def run_quizzes(run_id):
    run = queries.load_run(run_id) or abort(404)
    staff = can_teach_run(current_user, run)
    if not (staff or queries.is_enrolled(run.id, current_user.person_id)):
        abort(403)
    now = utcnow()
    if services.close_expired_attempts(now=now, grace=_grace(), person_id=current_user.person_id):
        db.session.commit()
    quizzes = queries.quizzes_of_run(run.id)
    return render_template(
        "quizzes/run.html",
        run=run,
        staff=staff,
        quizzes=quizzes,
        counts=queries.attempt_counts(run.id) if staff else {},
        rows=views.learner_quiz_rows(
            quizzes, queries.my_quiz_states(run.id, current_user.person_id), now
        ),
        progress=views.my_progress(run.id, current_user.person_id, now),
        lang=_lang(),
    )


@bp.route("/quizzes/<int:quiz_id>")
@login_required
def quiz(quiz_id):
    quiz = queries.load_quiz(quiz_id) or abort(404)
    if not queries.is_enrolled(quiz.run_id, current_user.person_id):
        if can_teach_run(current_user, quiz.run):
            return redirect(url_for("quizzes.results", quiz_id=quiz.id))
        abort(403)
    now = utcnow()
    if services.close_expired_attempts(
        now=now, grace=_grace(), quiz_id=quiz.id, person_id=current_user.person_id
    ):
        db.session.commit()
    states = queries.my_quiz_states(quiz.run_id, current_user.person_id)
    return render_template(
        "quizzes/quiz.html",
        quiz=quiz,
        row=views.learner_quiz_rows([quiz], states, now)[0],
        attempts=queries.attempts_of(quiz.id, current_user.person_id),
        show_results=services.results_visible(quiz, now),
    )


@bp.route("/quizzes/<int:quiz_id>/start", methods=["POST"])
@login_required
def start(quiz_id):
    quiz = queries.load_quiz(quiz_id) or abort(404)
    if not queries.is_enrolled(quiz.run_id, current_user.person_id):
        abort(403)
    try:
        attempt = services.start_attempt(
            quiz=quiz, person=current_user.person, now=utcnow(), grace=_grace()
        )
    except DomainError as error:
        db.session.commit()  # attempts the timer closed on the way stay closed
        flash(error.message, "error")
        return redirect(url_for("quizzes.quiz", quiz_id=quiz.id))
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id):
    attempt = _own_attempt(attempt_id)
    now = utcnow()
    if services.expire_if_due(attempt, now=now, grace=_grace()):
        db.session.commit()
        flash(_("Time ran out. The answers you saved before the end were graded."), "warning")
    if not attempt.is_open:
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    remaining = views.remaining_seconds(attempt, now)
    return render_template(
        "quizzes/attempt.html",
        attempt=attempt,
        quiz=attempt.quiz,
        slots=views.attempt_slots(attempt, _lang()),
        remaining=remaining,
        clock=views.clock(remaining),
    )


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@login_required
def save_answer(attempt_id):
    attempt = _own_attempt(attempt_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):  # a list, a string or a number is JSON too
        payload = {}
    position, values = payload.get("position"), payload.get("values")
    if not isinstance(position, int) or not isinstance(values, dict):
        return jsonify(error=_("The answer could not be read.")), 400
    values = {str(k): [str(x) for x in v] for k, v in values.items() if isinstance(v, list)}
    try:
        slot = services.save_answer(
            attempt=attempt, position=position, values=values, now=utcnow(), grace=_grace()
        )
    except services.AttemptClosed as error:
        services.expire_if_due(attempt, now=utcnow(), grace=_grace())
        db.session.commit()
        review = url_for("quizzes.review", attempt_id=attempt.id)
        return jsonify(error=error.message, closed=True, review_url=review), 409
    except DomainError as error:
        return jsonify(error=error.message), 400
    db.session.commit()
    return jsonify(saved=True, position=slot.position, answered=slot.response is not None)


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id):
    attempt = _own_attempt(attempt_id)
    now = utcnow()
    try:
        if request.form.get("action") == "save":
            services.save_answers(attempt=attempt, form=request.form, now=now, grace=_grace())
        else:
            services.submit_attempt(attempt=attempt, now=now, grace=_grace(), form=request.form)
    except services.AttemptClosed as error:
        services.expire_if_due(attempt, now=now, grace=_grace())
        db.session.commit()
        flash(error.message, "error")
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    db.session.commit()
    if attempt.is_open:
        flash(
            _("Your answers are saved. You can come back and finish before the time runs out."),
            "success",
        )
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    flash(_("Your attempt is submitted."), "success")
    return redirect(url_for("quizzes.review", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id):
    attempt = queries.load_attempt(attempt_id) or abort(404)
    own = attempt.person_id == current_user.person_id
    staff = can_teach_run(current_user, attempt.quiz.run)
    if not (own or staff):
        abort(403)
    if attempt.is_open:
        if own:
            return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
        abort(404)
    now = utcnow()
    show_score = staff or services.results_visible(attempt.quiz, now)
    reveal = staff or services.answers_visible(attempt.quiz, now)
    return render_template(
        "quizzes/review.html",
        attempt=attempt,
        quiz=attempt.quiz,
        slots=views.review_slots(attempt, _lang(), reveal) if show_score else [],
        show_score=show_score,
        reveal=reveal,
        staff_view=staff and not own,
    )


# --- trainers and managers ------------------------------------------------------------------


def _fill_quiz_form(form: QuizForm, run) -> None:
    form.bank_id.choices = [
        (bank.id, bank.title(_lang())) for bank in queries.banks_of_course(run.course_id)
    ]


def _quiz_settings(form: QuizForm) -> dict:
    def utc(value):
        return to_utc(value).replace(tzinfo=None) if value else None

    return dict(
        title=form.title.data.strip(),
        kind=QuizKind(form.kind.data),
        per_competence=form.per_competence.data,
        shuffle_questions=form.shuffle_questions.data,
        shuffle_choices=form.shuffle_choices.data,
        time_limit_minutes=form.time_limit_minutes.data,
        max_attempts=form.max_attempts.data,
        pass_mark=float(form.pass_mark.data),
        opens_at=utc(form.opens_at.data),
        closes_at=utc(form.closes_at.data),
        show_results=ShowWhen(form.show_results.data),
        show_answers=ShowWhen(form.show_answers.data),
    )


@bp.route("/runs/<int:run_id>/quizzes/new", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def new_quiz(run_id):
    run = queries.load_run(run_id) or abort(404)
    if not can_teach_run(current_user, run):
        abort(403)
    form = QuizForm()
    _fill_quiz_form(form, run)
    if request.method == "GET":
        form.pass_mark.data = 70
        form.opens_at.data = to_user_timezone(utcnow()).replace(
            tzinfo=None, second=0, microsecond=0
        )
    if form.validate_on_submit():
        bank = db.session.get(QuestionBank, form.bank_id.data) or abort(400)
        try:
            services.create_quiz(run=run, bank=bank, by=current_user, **_quiz_settings(form))
        except DomainError as error:
            show_error(form, error, "title")
        else:
            db.session.commit()
            flash(_("The quiz is saved."), "success")
            return redirect(url_for("quizzes.run_quizzes", run_id=run.id))
    return render_template("quizzes/quiz_form.html", form=form, run=run, quiz=None)


@bp.route("/quizzes/<int:quiz_id>/edit", methods=["GET", "POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def edit_quiz(quiz_id):
    quiz = _staff_quiz(quiz_id)
    form = QuizForm(obj=quiz)
    _fill_quiz_form(form, quiz.run)
    if request.method == "GET":
        form.kind.data, form.show_results.data = quiz.kind.value, quiz.show_results.value
        form.show_answers.data = quiz.show_answers.value
        form.opens_at.data = to_user_timezone(quiz.opens_at).replace(tzinfo=None)
        if quiz.closes_at:
            form.closes_at.data = to_user_timezone(quiz.closes_at).replace(tzinfo=None)
    if form.validate_on_submit():
        bank = db.session.get(QuestionBank, form.bank_id.data) or abort(400)
        try:
            services.update_quiz(quiz, bank=bank, **_quiz_settings(form))
        except DomainError as error:
            show_error(form, error, "title")
        else:
            db.session.commit()
            flash(_("The quiz is saved."), "success")
            return redirect(url_for("quizzes.results", quiz_id=quiz.id))
    return render_template("quizzes/quiz_form.html", form=form, run=quiz.run, quiz=quiz)


@bp.route("/quizzes/<int:quiz_id>/results")
@role_required(Role.TRAINER, Role.MANAGER)
def results(quiz_id):
    quiz = _staff_quiz(quiz_id)
    if services.close_expired_attempts(now=utcnow(), grace=_grace(), quiz_id=quiz.id):
        db.session.commit()
    stats, _rows = views.question_stats(quiz, _lang())
    return render_template(
        "quizzes/results.html",
        quiz=quiz,
        attempts=queries.quiz_attempts(quiz.id),
        summary=queries.quiz_summary(quiz.id),
        stats=stats,
    )


def _export(quiz_id: int, extension: str) -> Response:
    quiz = _staff_quiz(quiz_id)
    headers, rows = views.results_table(quiz, _lang())
    if extension == "csv":
        body, mimetype = views.to_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        body = views.to_xlsx(quiz.title, headers, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = views.download_name(quiz, extension)
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.route("/quizzes/<int:quiz_id>/results.xlsx")
@role_required(Role.TRAINER, Role.MANAGER)
def export_xlsx(quiz_id):
    return _export(quiz_id, "xlsx")


@bp.route("/quizzes/<int:quiz_id>/results.csv")
@role_required(Role.TRAINER, Role.MANAGER)
def export_csv(quiz_id):
    return _export(quiz_id, "csv")


@bp.route("/runs/<int:run_id>/knowledge-gain")
@role_required(Role.TRAINER, Role.MANAGER)
def gain(run_id):
    run = queries.load_run(run_id) or abort(404)
    if not can_teach_run(current_user, run):
        abort(403)
    if services.close_expired_attempts(now=utcnow(), grace=_grace(), run_id=run.id):
        db.session.commit()
    pre, post = queries.pre_post_quizzes(run.id)
    return render_template(
        "quizzes/gain.html", run=run, pre=pre, post=post, **views.gain_page(run.id, _lang())
    )


# --- question banks -------------------------------------------------------------------------


@bp.route("/quiz-banks")
@role_required(Role.TRAINER, Role.MANAGER)
def banks():
    return render_template(
        "quizzes/banks.html",
        rows=queries.bank_list(),
        lang=_lang(),
        can_import=current_user.is_admin or current_user.has_role(Role.MANAGER),
    )


@bp.route("/quiz-banks/<int:bank_id>")
@role_required(Role.TRAINER, Role.MANAGER)
def bank(bank_id):
    bank = queries.load_bank(bank_id) or abort(404)
    return render_template(
        "quizzes/bank.html", bank=bank, questions=views.bank_questions(bank, _lang()), lang=_lang()
    )


@bp.route("/quiz-banks/<int:bank_id>/gift")
@role_required(Role.TRAINER, Role.MANAGER)
def export_gift(bank_id):
    bank = queries.load_bank(bank_id) or abort(404)
    lang = request.args.get("lang") if request.args.get("lang") in ("en", "sq", "sr") else "en"
    text = gift.export_gift(
        [q for q in bank.questions if q.active], lang, f"{bank.course.code} · {bank.title(lang)}"
    )
    name = f"{bank.course.code}-{bank.slug}-{lang}.gift.txt"
    return Response(
        text.encode("utf-8"),
        mimetype="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _fill_import_form(form: GiftImportForm) -> None:
    form.course_id.choices = [
        (c.id, f"{c.code} · {c.localized('title')}")
        for c in db.session.scalars(db.select(Course).order_by(Course.code))
    ]
    form.bank_id.choices = [("", _("A new bank"))] + [
        (b.id, f"{b.course.code} · {b.title(_lang())}") for b in queries.gift_banks()
    ]


def _gift_source(form: GiftImportForm) -> tuple[str, str]:
    """The GIFT text and what to call it in problem reports: the file, else the pasted text."""
    upload = form.file.data
    if upload and upload.filename:
        return upload.read().decode("utf-8"), upload.filename
    return form.text.data or "", _("pasted text")


@bp.route("/quiz-banks/import", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def import_gift():
    form = GiftImportForm()
    _fill_import_form(form)
    problems = []
    if form.validate_on_submit():
        try:
            text, source = _gift_source(form)
            bank, counts = services.import_gift(
                course=db.session.get(Course, form.course_id.data) or abort(400),
                bank=db.session.get(QuestionBank, form.bank_id.data) if form.bank_id.data else None,
                title=form.title.data,
                text=text,
                source=source,
                lang=form.language.data,
                competence=form.competence.data,
                level=form.level.data,
            )
        except UnicodeDecodeError:
            show_error(
                form, DomainError(_("The file is not UTF-8 text; save it as UTF-8.")), "file"
            )
        except gift.GiftError as error:
            db.session.rollback()
            problems = [str(p) for p in error.problems]
        except DomainError as error:
            db.session.rollback()
            show_error(form, error, "text")
        else:
            db.session.commit()
            flash(_("%(added)d questions added and %(updated)d updated.", **counts), "success")
            return redirect(url_for("quizzes.bank", bank_id=bank.id))
    return render_template("quizzes/import.html", form=form, problems=problems)


@bp.cli.command("close-expired")
def close_expired_command():
    """Close and grade attempts whose time ran out (run every few minutes, e.g. from cron)."""
    closed = services.close_expired_attempts(
        now=utcnow(), grace=timedelta(seconds=current_app.config.get("QUIZ_GRACE_SECONDS", 30))
    )
    db.session.commit()
    click.echo(f"{closed} attempt(s) closed")

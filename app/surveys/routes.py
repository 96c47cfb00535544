import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.permissions import can_manage_run, can_teach_run
from app.quizzes.queries import is_enrolled, load_run
from app.security import login_required, public, role_required
from app.timeutil import utcnow

from . import notifications, queries, services
from .forms import FollowUpForm, ReactionForm, ScheduleForm
from .models import APPLIED_LABELS, Survey, SurveyInvitation, SurveyKind

bp = Blueprint("surveys", __name__, cli_group="surveys")


def _may_run(survey_kind: SurveyKind, run) -> bool:
    """Trainers plan the course feedback; the follow-up is the programme manager's."""
    if survey_kind == SurveyKind.FOLLOW_UP:
        return can_manage_run(current_user, run)
    return can_teach_run(current_user, run)


def _staff_page(run, form: ScheduleForm):
    surveys = queries.surveys_of_run(run.id)
    return render_template(
        "surveys/run.html",
        run=run,
        surveys=surveys,
        rates=queries.response_rates([s.id for s in surveys]),
        form=form,
        can_manage=can_manage_run(current_user, run),
        window=services.follow_up_window(run),
        today=utcnow().date(),
    )


@bp.route("/runs/<int:run_id>/surveys")
@login_required
def run_surveys(run_id):
    run = load_run(run_id) or abort(404)
    if can_teach_run(current_user, run):
        form = ScheduleForm(data={"send_on": run.ends_on})
        return _staff_page(run, form)
    invitations = queries.my_invitations(run.id, current_user.person_id)
    if not (invitations or is_enrolled(run.id, current_user.person_id)):
        abort(403)
    return render_template(
        "surveys/mine.html", run=run, invitations=invitations, today=utcnow().date()
    )


def _deliver(survey: Survey, deliveries) -> None:
    db.session.commit()
    sent = notifications.send_invitations(survey, deliveries)
    flash(
        ngettext("%(num)d invitation e-mailed.", "%(num)d invitations e-mailed.", sent), "success"
    )


@bp.route("/runs/<int:run_id>/surveys/new", methods=["POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def schedule(run_id):
    run = load_run(run_id) or abort(404)
    form = ScheduleForm()
    if not can_teach_run(current_user, run):
        abort(403)
    if form.validate_on_submit():
        kind = SurveyKind(form.kind.data)
        if not _may_run(kind, run):
            abort(403)
        try:
            survey = services.schedule_survey(
                run=run,
                kind=kind,
                send_on=form.send_on.data,
                closes_on=form.closes_on.data,
                by=current_user,
            )
            now = utcnow()
            deliveries = (
                services.send_survey(survey, now=now) if survey.send_on <= now.date() else None
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error, "send_on")
        else:
            if deliveries is None:
                db.session.commit()
                flash(_("The survey is planned."), "success")
            else:
                _deliver(survey, deliveries)
            return redirect(url_for("surveys.run_surveys", run_id=run.id))
    return _staff_page(run, form)


@bp.route("/surveys/<int:survey_id>/send", methods=["POST"])
@role_required(Role.TRAINER, Role.MANAGER)
def send_now(survey_id):
    survey = queries.load_survey(survey_id) or abort(404)
    if not _may_run(survey.kind, survey.run):
        abort(403)
    try:
        deliveries = services.send_survey(survey, now=utcnow())
    except DomainError as error:
        flash(error.message, "error")
    else:
        _deliver(survey, deliveries)
    return redirect(url_for("surveys.run_surveys", run_id=survey.run_id))


@bp.route("/surveys/<int:survey_id>/results")
@role_required(Role.TRAINER, Role.MANAGER)
def results(survey_id):
    survey = queries.load_survey(survey_id) or abort(404)
    if not can_teach_run(current_user, survey.run):
        abort(403)
    rate = queries.response_rates([survey.id])[survey.id]
    enough = rate.responded >= queries.MIN_RESPONSES
    return render_template(
        "surveys/results.html",
        survey=survey,
        rate=rate,
        enough=enough,
        minimum=queries.MIN_RESPONSES,
        ratings=queries.rating_summaries(survey.id) if enough else [],
        applied=queries.applied_counts(survey.id) if enough else {},
        applied_labels=APPLIED_LABELS,
        comments=queries.comments(survey.id) if enough else [],
    )


def _answer(invitation: SurveyInvitation):
    survey = invitation.survey
    today = utcnow().date()
    if invitation.responded:
        return render_template("surveys/thanks.html", survey=survey, already=True)
    if not survey.is_open(today):
        return render_template("surveys/closed.html", survey=survey)
    form = ReactionForm() if survey.kind == SurveyKind.REACTION else FollowUpForm()
    if form.validate_on_submit():
        answers = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit")}
        try:
            services.respond(invitation=invitation, today=today, **answers)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error, "comment")
        else:
            db.session.commit()
            return render_template("surveys/thanks.html", survey=survey, already=False)
    return render_template("surveys/respond.html", survey=survey, form=form)


@bp.route("/surveys/<int:survey_id>/respond", methods=["GET", "POST"])
@login_required
def respond(survey_id):
    survey = queries.load_survey(survey_id) or abort(404)
    invitation = services.invitation_for(survey, current_user.person_id) or abort(403)
    return _answer(invitation)


@bp.route("/surveys/answer/<token>", methods=["GET", "POST"])
@public
def answer(token):
    invitation = services.invitation_by_token(token) or abort(404)
    return _answer(invitation)


@bp.cli.command("send-due")
@click.option(
    "--base-url",
    envvar="AKADEMIA_BASE_URL",
    default=None,
    help="Public address for links in the e-mails, e.g. https://akademia.example.org",
)
def send_due_command(base_url):
    """E-mail the surveys whose sending day has come (run daily, e.g. from cron)."""
    if not base_url and not current_app.config.get("SERVER_NAME"):
        raise click.ClickException("give --base-url (or AKADEMIA_BASE_URL) for the links")
    now = utcnow()
    batches = services.send_due(now=now)
    db.session.commit()
    with current_app.test_request_context(base_url=base_url or None):
        for survey, deliveries in batches:
            sent = notifications.send_invitations(survey, deliveries)
            click.echo(f"survey {survey.id} ({survey.kind}, run {survey.run_id}): {sent} e-mailed")
    click.echo(f"{len(batches)} survey(s) sent")

"""Certificate pages: public verification (online and offline), a learner's certificates,
and a manager's rule, issuance, revocation and bulk jobs for a run."""

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
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app import queue
from app.auth.roles import Role
from app.enrollment.models import EnrollmentStatus
from app.errors import DomainError, show_error
from app.extensions import db, limiter
from app.permissions import can_manage_run
from app.security import login_required, public, role_required
from app.timeutil import utcnow

from . import pipeline, queries, rules, services, signing, storage, views
from .forms import JobForm, OfflineForm, ReissueForm, RevokeForm, RuleForm, VerifyForm
from .models import (
    KIND_LABELS,
    LANGUAGE_LABELS,
    Certificate,
    CertificateKind,
    CertificateLanguage,
    CertificateStatus,
    JobFormat,
    JobStatus,
)
from .numbering import normalize_code

bp = Blueprint("certificates", __name__)

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@bp.record_once
def _configure_queue(state):
    queue.configure(state.app)


def _verify_limit() -> str:
    return current_app.config["CERT_VERIFY_RATE_LIMIT"]


# --- Public verification --------------------------------------------------------------------


@bp.route("/verify")
@public
@limiter.limit(_verify_limit)
def verify_form():
    form = VerifyForm(request.args)
    if request.args and form.validate():
        code = normalize_code(form.code.data)
        if code:
            return redirect(url_for(".verify", code=code))
        form.code.errors.append(
            _("A verification code has 20 letters and digits, like 7K2QM-8XD4P-R9T3V-WB6HN.")
        )
    return render_template("certificates/verify_form.html", form=form)


def _public_certificate(code: str) -> Certificate | None:
    """The certificate to show for a code; None alike for unknown, malformed and pending."""
    certificate = queries.by_code(code)
    return certificate if certificate is not None and certificate.is_public else None


@bp.route("/verify/<code>")
@public
@limiter.limit(_verify_limit)
def verify(code):
    certificate = _public_certificate(code)
    if certificate is None:
        return render_template("certificates/verify_unknown.html"), 404, PRIVATE_HEADERS
    page = render_template(
        "certificates/verify.html",
        verification=views.verification(certificate),
        code=certificate.code,
    )
    return page, 200, PRIVATE_HEADERS


@bp.route("/verify/<code>.json")
@public
@limiter.limit(_verify_limit)
def verify_json(code):
    certificate = _public_certificate(code)
    if certificate is None:
        return jsonify(status="unknown"), 404, PRIVATE_HEADERS
    return jsonify(views.verification(certificate).as_json()), 200, PRIVATE_HEADERS


@bp.route("/verify/offline", methods=["GET", "POST"])
@public
@limiter.limit(_verify_limit, methods=["POST"])
def offline():
    """Checks a pasted payload in the browser (verify.js); the form posts here without JS."""
    form = OfflineForm()
    result = None
    if form.validate_on_submit():
        try:
            payload = signing.verify(form.payload.data, signing.public_key())
        except signing.InvalidToken:
            result = views.OfflineResult(False, _("Not genuine: the signature does not match."))
        else:
            result = views.OfflineResult(
                True, _("Genuine: signed by Akademia."), views.offline_fields(payload)
            )
    return (
        render_template(
            "certificates/offline.html",
            form=form,
            result=result,
            key=signing.public_jwk(signing.public_key()),
            labels=views.offline_labels(),
        ),
        200,
        PRIVATE_HEADERS,
    )


@bp.route("/certificates/public-key.pem")
@public
def public_key():
    return Response(
        signing.public_pem(signing.public_key()),
        mimetype="application/x-pem-file",
        headers={"Content-Disposition": 'inline; filename="akademia-certificates.pem"'},
    )


@bp.route("/certificates/public-key.json")
@public
def public_key_jwk():
    return jsonify(keys=[signing.public_jwk(signing.public_key())])


# --- A learner's certificates ---------------------------------------------------------------


@bp.route("/certificates/mine")
@login_required
def mine():
    return render_template(
        "certificates/mine.html", certificates=queries.of_person(current_user.person_id)
    )


def _load_visible(certificate_id: int) -> tuple[Certificate, bool]:
    """The certificate and whether the user manages it; 404 for anyone else's."""
    certificate = queries.load_certificate(certificate_id) or abort(404)
    manage = can_manage_run(current_user, certificate.run)
    if not manage and certificate.person_id != current_user.person_id:
        abort(404)
    return certificate, manage


def _detail_page(certificate, manage, revoke_form=None, reissue_form=None):
    return render_template(
        "certificates/detail.html",
        certificate=certificate,
        verification=views.verification(certificate),
        course=views.course_title(certificate),
        manage=manage,
        events=queries.events_of(certificate.id) if manage else [],
        replacement=queries.replacement_of(certificate.id) if manage else None,
        revoke_form=revoke_form or RevokeForm(prefix="revoke"),
        reissue_form=reissue_form or ReissueForm(prefix="reissue"),
    )


@bp.route("/certificates/<int:certificate_id>")
@login_required
def detail(certificate_id):
    return _detail_page(*_load_visible(certificate_id))


@bp.route("/certificates/<int:certificate_id>/download")
@login_required
def download(certificate_id):
    certificate, manage = _load_visible(certificate_id)
    # An erased certificate has neither a PDF nor a name to print one again with.
    if (
        certificate.status == CertificateStatus.PENDING
        or certificate.erased_at is not None
        or not (manage or certificate.is_valid)
    ):
        flash(
            _(
                "This certificate cannot be downloaded: it is %(status)s.",
                status=certificate.status_label.lower(),
            ),
            "error",
        )
        return redirect(url_for(".detail", certificate_id=certificate.id))
    path, number, user_id = pipeline.ensure_file(certificate), certificate.number, current_user.id
    # End the read before writing: on SQLite a read transaction cannot always take the write
    # lock, while one that starts with the write waits for it.
    db.session.commit()
    services.record_downloads([certificate_id], by_id=user_id)
    db.session.commit()
    return send_file(
        path, mimetype="application/pdf", as_attachment=True, download_name=f"{number}.pdf"
    )


# --- Managers: rule, overview, revocation, re-issue -----------------------------------------


def _managed_run(run_id: int):
    run = queries.load_run(run_id) or abort(404)
    if not can_manage_run(current_user, run):
        abort(403)
    return run


@bp.route("/runs/<int:run_id>/certificates")
@role_required(Role.MANAGER)
def run_certificates(run_id):
    run = _managed_run(run_id)
    rule = rules.rule_for(run)
    return render_template(
        "certificates/run.html",
        run=run,
        rule=rule,
        rule_kind=KIND_LABELS[rule.kind],
        rule_language=LANGUAGE_LABELS[rule.language],
        standings=rules.evaluate(run, utcnow(), rule),
        certificates=queries.of_run(run.id),
        jobs=queries.jobs_of_run(run.id),
        job_form=JobForm(),
    )


@bp.route("/runs/<int:run_id>/certificates/rule", methods=["GET", "POST"])
@role_required(Role.MANAGER)
def edit_rule(run_id):
    run = _managed_run(run_id)
    form = RuleForm(obj=rules.rule_for(run))
    if form.validate_on_submit():
        try:
            services.save_rule(
                run,
                kind=CertificateKind(form.kind.data),
                min_attendance=form.min_attendance.data,
                require_post_test=form.require_post_test.data,
                require_survey=form.require_survey.data,
                language=CertificateLanguage(form.language.data),
                by=current_user,
            )
            issued = services.issue_due_certificates(run, by=current_user)
        except DomainError as error:
            show_error(form, error, "min_attendance")
        else:
            db.session.commit()
            flash(_("The rule is saved."), "success")
            if issued:
                flash(
                    ngettext(
                        "%(num)d certificate is being issued.",
                        "%(num)d certificates are being issued.",
                        len(issued),
                    ),
                    "info",
                )
            return redirect(url_for(".run_certificates", run_id=run.id))
    return render_template("certificates/rule.html", run=run, form=form)


def _managed_certificate(certificate_id: int) -> Certificate:
    certificate = queries.load_certificate(certificate_id) or abort(404)
    if not can_manage_run(current_user, certificate.run):
        abort(403)
    return certificate


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@role_required(Role.MANAGER)
def revoke(certificate_id):
    certificate = _managed_certificate(certificate_id)
    form = RevokeForm(prefix="revoke")
    if form.validate_on_submit():
        try:
            services.revoke(certificate, by=current_user, reason=form.reason.data)
        except DomainError as error:
            show_error(form, error, "reason")
        else:
            db.session.commit()
            flash(_("The certificate is revoked: verification now says so."), "success")
            return redirect(url_for(".detail", certificate_id=certificate.id))
    return _detail_page(certificate, True, revoke_form=form)


@bp.route("/certificates/<int:certificate_id>/reissue", methods=["POST"])
@role_required(Role.MANAGER)
def reissue(certificate_id):
    certificate = _managed_certificate(certificate_id)
    form = ReissueForm(prefix="reissue")
    if form.validate_on_submit():
        try:
            new = services.reissue(certificate, by=current_user, reason=form.reason.data)
        except DomainError as error:
            show_error(form, error, "reason")
        else:
            db.session.commit()
            flash(_("A new certificate is issued; the old one now shows superseded."), "success")
            return redirect(url_for(".detail", certificate_id=new.id))
    return _detail_page(certificate, True, reissue_form=form)


# --- Managers: bulk jobs --------------------------------------------------------------------


@bp.route("/runs/<int:run_id>/certificates/jobs", methods=["POST"])
@role_required(Role.MANAGER)
def start_job(run_id):
    run = _managed_run(run_id)
    form = JobForm()
    if not form.validate_on_submit():
        flash(_("Choose a ZIP file or one PDF."), "error")
        return redirect(url_for(".run_certificates", run_id=run.id))
    try:
        bulk, created = services.start_job(
            run, by=current_user, output_format=JobFormat(form.output_format.data)
        )
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".run_certificates", run_id=run.id))
    db.session.commit()
    if not created:
        flash(_("The certificates of this run are being issued already: here is that job."), "info")
    return redirect(url_for(".job", job_id=bulk.id))


def _managed_job(job_id: int):
    bulk = queries.load_job(job_id) or abort(404)
    if not can_manage_run(current_user, bulk.run):
        abort(403)
    return bulk


def _job_view(bulk) -> views.JobView:
    ready = bulk.status == JobStatus.DONE and bulk.output_name
    return views.JobView(
        id=bulk.id,
        status=bulk.status.value,
        status_label=bulk.status_label,
        total=bulk.total,
        done=bulk.done,
        percent=bulk.percent,
        finished=bulk.finished,
        error=bulk.error,
        download_url=url_for(".job_download", job_id=bulk.id) if ready else None,
        created_at=bulk.created_at,
    )


@bp.route("/certificates/jobs/<int:job_id>")
@role_required(Role.MANAGER)
def job(job_id):
    bulk = _managed_job(job_id)
    return render_template("certificates/job.html", job=_job_view(bulk), run=bulk.run)


@bp.route("/certificates/jobs/<int:job_id>.json")
@role_required(Role.MANAGER)
def job_status(job_id):
    return jsonify(_job_view(_managed_job(job_id)).as_json())


@bp.route("/certificates/jobs/<int:job_id>/download")
@role_required(Role.MANAGER)
def job_download(job_id):
    bulk = _managed_job(job_id)
    path = storage.bundle_file(bulk.output_name) if bulk.output_name else None
    if bulk.status != JobStatus.DONE or path is None or not path.is_file():
        abort(404)
    ids, user_id, name = queries.valid_ids_of_run(bulk.run_id), current_user.id, bulk.output_name
    output_format = bulk.output_format
    db.session.commit()
    services.record_downloads(ids, by_id=user_id, note=_("in bulk file %(name)s", name=name))
    db.session.commit()
    mimetype = "application/zip" if output_format == JobFormat.ZIP else "application/pdf"
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name)


# --- The box on a course run's page ---------------------------------------------------------


@bp.app_template_global("certificate_panel")
def certificate_panel(run, enrollment, can_manage: bool) -> views.RunPanel | None:
    """For courses/run.html: the learner's standing or certificate; the manager's link."""
    if not current_user.is_authenticated:
        return None
    enrolled = enrollment is not None and enrollment.status == EnrollmentStatus.ENROLLED
    if not (enrolled or can_manage):
        return None
    standing = rules.standing_of(run, current_user.person_id, utcnow()) if enrolled else None
    return views.RunPanel(
        manage=can_manage,
        standing=standing,
        certificate=standing.certificate if standing else None,
    )

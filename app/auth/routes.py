from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.errors import DomainError, show_error
from app.extensions import db, limiter
from app.i18n import current_locale
from app.security import login_required, public

from . import emails, services, sessions
from .forms import ChangePasswordForm, ForgotPasswordForm, ResetPasswordForm, SignInForm, SignUpForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Per-address limits; the per-account limit lives in services.authenticate.
ADDRESS_LIMIT = "30 per 15 minutes"


def safe_next(target: str | None) -> str:
    """Only same-site paths: "//evil.example" and "https://evil.example" are refused."""
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.home")
    if "\\" in target:
        return url_for("main.home")
    return target


def _sign_in(user) -> None:
    sessions.start_session(
        user, ip_address=request.remote_addr, user_agent=request.user_agent.string
    )
    db.session.commit()
    session.clear()
    login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(ADDRESS_LIMIT, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                email=form.email.data, password=form.password.data, ip_address=request.remote_addr
            )
        except DomainError as error:
            db.session.commit()  # keep the recorded failure
            flash(error.message, "error")
        else:
            _sign_in(user)
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    sessions.end_session(current_user.session_token)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@public
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            result = services.register_learner(
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                email=form.email.data,
                password=form.password.data,
                locale=current_locale(),
            )
        except DomainError as error:
            show_error(form, error, "password")
        else:
            db.session.commit()
            _send_signup_mail(result)
            return render_template("auth/check_inbox.html", email=result.person.email)
    return render_template("auth/signup.html", form=form)


def _send_signup_mail(result: services.Registration) -> None:
    email = result.person.email
    if result.outcome == "created":
        emails.send_confirmation(email, result.user, services.make_confirm_token(result.user))
    elif result.outcome == "claim":
        token = services.make_password_token(result.person, None)
        emails.send_password_link(email, None, token, new_account=True)
    else:
        token = services.make_password_token(result.person, result.user)
        emails.send_already_registered(email, result.user, token)


@bp.route("/confirm/<token>")
@public
def confirm_email(token):
    try:
        services.confirm_email(token)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("auth.login"))
    db.session.commit()
    flash(_("Your e-mail address is confirmed. You can sign in now."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        found = services.request_password_reset(form.email.data)
        if found:
            person, user = found
            token = services.make_password_token(person, user)
            emails.send_password_link(person.email, user, token, new_account=user is None)
        # The same answer whether or not the address is known.
        return render_template("auth/check_inbox.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    try:
        person = services.check_password_token(token)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token=token, new_password=form.password.data)
        except DomainError as error:
            show_error(form, error, "password")
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Your password is saved. Sign in with it now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, person=person)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = services.change_password(
                user=current_user,
                current_password=form.current_password.data,
                new_password=form.password.data,
                keep_token=current_user.session_token,
            )
        except DomainError as error:
            show_error(form, error, "password")
        else:
            db.session.commit()
            flash(
                _("Your password is changed. %(n)d other sessions were signed out.", n=ended),
                "success",
            )
            return redirect(url_for("people.my_profile"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/sessions")
@login_required
def my_sessions():
    rows = sessions.user_sessions(current_user)
    current_hash = sessions.UserSession.hash_token(current_user.session_token)
    return render_template("auth/sessions.html", rows=rows, current_hash=current_hash)


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    ended = sessions.end_other_sessions(current_user, keep_token=current_user.session_token)
    db.session.commit()
    flash(_("%(n)d other sessions were signed out.", n=ended), "success")
    return redirect(url_for("auth.my_sessions"))

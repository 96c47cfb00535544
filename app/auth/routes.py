import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from app.errors import DomainError, show_error
from app.extensions import db, limiter
from app.i18n import current_locale
from app.security import login_required, public
from app.timeutil import utcnow

from . import emails, services, sessions, two_factor
from .forms import (
    ChangePasswordForm,
    CodeForm,
    DisableTwoFactorForm,
    ForgotPasswordForm,
    RegenerateCodesForm,
    ResetPasswordForm,
    SetupForm,
    SignInForm,
    SignUpForm,
)
from .models import User

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
            target = safe_next(request.args.get("next"))
            if user.two_factor_enabled:
                db.session.commit()  # a rehashed password
                _hold_password_step(user, target)
                return redirect(url_for("auth.sign_in_code"))
            _sign_in(user)
            if user.two_factor_required:
                return redirect(url_for("auth.two_factor_setup"))
            return redirect(target)
    return render_template("auth/login.html", form=form)


# The password step of a two-step sign-in is held in the signed session cookie, not as a
# UserSession: nothing is reachable with it but the code form, and only for a few minutes.
PENDING_KEY = "pending_sign_in"


def _hold_password_step(user: User, target: str) -> None:
    session.clear()
    session[PENDING_KEY] = {"user": user.id, "at": int(time.time()), "next": target}


def _pending_user() -> tuple[User, str] | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    max_age = current_app.config["TWO_FACTOR_PENDING_SECONDS"]
    if time.time() - pending.get("at", 0) > max_age:
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or not user.two_factor_enabled:
        return None
    return user, pending.get("next") or url_for("main.home")


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(ADDRESS_LIMIT, methods=["POST"])
@public
def sign_in_code():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    pending = _pending_user()
    if pending is None:
        session.pop(PENDING_KEY, None)
        flash(_("Your sign-in has expired. Please enter your password again."), "info")
        return redirect(url_for("auth.login"))
    user, target = pending
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = two_factor.complete_sign_in(
                user=user, code=form.code.data, now=utcnow(), ip_address=request.remote_addr
            )
        except DomainError as error:
            db.session.commit()  # keep the recorded failure
            show_error(form, error, "code")
        else:
            _sign_in(user)
            if method == "recovery":
                left = two_factor.unused_recovery_codes(user)
                flash(
                    ngettext(
                        "You used a recovery code; %(num)d is left. Make new ones if you lost your phone.",
                        "You used a recovery code; %(num)d are left. Make new ones if you lost your phone.",
                        left,
                    ),
                    "warning",
                )
            return redirect(target)
    return render_template("auth/sign_in_code.html", form=form)


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


@bp.route("/two-factor")
@login_required
def two_factor_settings():
    return _settings_page(RegenerateCodesForm(prefix="regen"), DisableTwoFactorForm(prefix="off"))


def _settings_page(regenerate_form, disable_form):
    return render_template(
        "auth/two_factor.html",
        user=current_user,
        recovery_left=two_factor.unused_recovery_codes(current_user),
        regenerate_form=regenerate_form,
        disable_form=disable_form,
    )


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    if current_user.two_factor_enabled:
        return redirect(url_for("auth.two_factor_settings"))
    secret, new = two_factor.begin_setup(current_user)
    if new:
        db.session.commit()
    form = SetupForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_setup(
                user=current_user, code=form.code.data, now=utcnow(), ip_address=request.remote_addr
            )
        except DomainError as error:
            db.session.commit()  # keep the recorded failure
            show_error(form, error, "code")
        else:
            # Other browsers signed in with the password alone; they must pass the new step.
            sessions.end_other_sessions(current_user, keep_token=current_user.session_token)
            db.session.commit()
            flash(_("Two-step sign-in is on."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = two_factor.provisioning_uri(current_user, secret)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr=two_factor.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=current_user.two_factor_required,
    )


@bp.route("/two-factor/recovery-codes", methods=["POST"])
@login_required
def regenerate_recovery_codes():
    form = RegenerateCodesForm(prefix="regen")
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(
                user=current_user, code=form.code.data, now=utcnow(), ip_address=request.remote_addr
            )
        except DomainError as error:
            db.session.commit()  # keep the recorded failure
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("New recovery codes are made; the old ones no longer work."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    return _settings_page(form, DisableTwoFactorForm(prefix="off")), 400


@bp.route("/two-factor/disable", methods=["POST"])
@login_required
def disable_two_factor():
    form = DisableTwoFactorForm(prefix="off")
    if form.validate_on_submit():
        try:
            two_factor.disable(
                user=current_user,
                password=form.password.data,
                code=form.code.data,
                now=utcnow(),
                ip_address=request.remote_addr,
            )
        except DomainError as error:
            db.session.commit()  # keep the recorded failure
            show_error(form, error, "code")
        else:
            db.session.commit()
            flash(_("Two-step sign-in is off."), "success")
            return redirect(url_for("auth.two_factor_settings"))
    return _settings_page(RegenerateCodesForm(prefix="regen"), form), 400

"""Response headers and the coarse role check used by every protected view."""

from functools import wraps

from flask import Flask, abort, redirect, request, session, url_for
from flask_login import current_user

from .auth.roles import Role

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# What an account whose role requires two-step sign-in may open before setting it up.
TWO_FACTOR_SETUP_ENDPOINTS = {"auth.two_factor_setup", "auth.logout", "static", "main.set_language"}


def init_app(app: Flask) -> None:
    @app.before_request
    def require_two_factor_setup():
        if request.endpoint in TWO_FACTOR_SETUP_ENDPOINTS:
            return None
        # Checked on every request, so a role given while signed in takes effect at once.
        if (
            current_user.is_authenticated
            and current_user.two_factor_required
            and not current_user.two_factor_enabled
        ):
            return redirect(url_for("auth.two_factor_setup"))
        return None

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        # The session, not current_user: loading the user here would open a second
        # transaction (and on SQLite take the write lock again) after a writing request.
        if "_user_id" in session:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


def role_required(*roles: Role):
    """Signed in and holding one of the roles; administrators pass every role check."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager

                return login_manager.unauthorized()
            if not (current_user.is_admin or current_user.has_role(*roles)):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def login_required(view):
    """Flask-Login's check, marked so the access test knows the view is protected on purpose."""
    from flask_login import login_required as flask_login_required

    wrapped = flask_login_required(view)
    wrapped.required_roles = ()
    return wrapped


def public(view):
    """Marks a view that anyone may open; the access test refuses unmarked views."""
    view.is_public = True
    return view

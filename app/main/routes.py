from flask import Blueprint, redirect, render_template, request, session
from flask_login import current_user

from app.auth.routes import safe_next
from app.extensions import db, limiter
from app.i18n import LOCALES
from app.logs import quiet
from app.security import public

from . import dashboard, health
from .nav import nav_items

bp = Blueprint("main", __name__)


@bp.app_context_processor
def inject_nav():
    return {"nav_items": nav_items()}


@bp.route("/")
@public
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html", **dashboard.public_summary())
    return render_template("main/home.html", **dashboard.for_user(current_user))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    locale = request.form.get("locale")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    return redirect(safe_next(request.form.get("next")))


# The load balancer's probes: no session, no rate limit, never cached.
@bp.route("/healthz")
@limiter.exempt
@quiet
@public
def healthz():
    """The process answers; says nothing about the database (see /readyz)."""
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}


@bp.route("/readyz")
@limiter.exempt
@quiet
@public
def readyz():
    """200 when the database and the task queue's storage answer; else 503 naming what failed."""
    checks = health.readiness()
    failed = [name for name, outcome in checks.items() if outcome != "ok"]
    body = {"status": "unavailable" if failed else "ok", "checks": checks, "failed": failed}
    return body, 503 if failed else 200, {"Cache-Control": "no-store"}


@bp.route("/about")
@public
def about():
    return render_template("main/about.html")

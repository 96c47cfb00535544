from flask import Blueprint, redirect, render_template, request, session
from flask_login import current_user

from app.auth.routes import safe_next
from app.extensions import db
from app.i18n import LOCALES
from app.security import public

from . import dashboard
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


@bp.route("/healthz")
@public
def healthz():
    return {"status": "ok"}


@bp.route("/about")
@public
def about():
    return render_template("main/about.html")

"""Akademia: digital-literacy training programmes."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import build_config
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .http import Request


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = Request
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(build_config(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    from . import database, i18n, logs, security, templating
    from .auth.sessions import load_user_from_session

    # First, so that its request id exists before any other hook can refuse the request.
    logs.init_app(app)
    if app.config.get("PROXY_COUNT"):
        # Client address (rate limits, session list) and scheme from the proxies we trust.
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    db.init_app(app)
    database.configure_engine_events(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_user_from_session)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    security.init_app(app)
    templating.init_app(app)

    from .errors import register_error_handlers

    register_error_handlers(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from .activities.routes import bp as activities_bp
    from .admin.routes import bp as admin_bp
    from .attendance.paper_routes import bp as paper_bp
    from .attendance.routes import bp as attendance_bp
    from .attendance.schedule_routes import bp as schedule_bp
    from .audit.routes import bp as audit_bp
    from .auth.routes import bp as auth_bp
    from .certificates.routes import bp as certificates_bp
    from .courses.routes import bp as courses_bp
    from .enrollment.routes import bp as enrollment_bp
    from .main.routes import bp as main_bp
    from .observatory.routes import bp as observatory_bp
    from .people.routes import bp as people_bp
    from .places.routes import bp as places_bp
    from .privacy.routes import bp as privacy_bp
    from .programmes.routes import bp as programmes_bp
    from .quizzes.routes import bp as quizzes_bp
    from .reports.report_routes import bp as reports_bp  # the logframe's routes share it
    from .surveys.routes import bp as surveys_bp

    for blueprint in (
        main_bp,
        auth_bp,
        admin_bp,
        audit_bp,
        places_bp,
        people_bp,
        programmes_bp,
        courses_bp,
        enrollment_bp,
        attendance_bp,
        schedule_bp,
        paper_bp,
        activities_bp,
        quizzes_bp,
        surveys_bp,
        certificates_bp,
        observatory_bp,
        reports_bp,
        privacy_bp,
    ):
        app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    from .cli import register_cli

    register_cli(app)

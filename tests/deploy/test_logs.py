"""JSON request logs: the fields a reader needs, and none of the secrets a request carries."""

import json

import pytest

from app.auth import services as auth_services
from app.extensions import db
from tests.conftest import PASSWORD, create_user
from tests.deploy.helpers import second_app


@pytest.fixture
def json_app(app):
    with second_app(app, LOG_FORMAT="json", PROPAGATE_EXCEPTIONS=False) as other:

        @other.route("/test-only/boom")
        def boom():
            raise RuntimeError("failed while mailing someone@example.org")

        boom.is_public = True
        yield other


def _lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def _request_lines(captured: str) -> list[dict]:
    return [line for line in _lines(captured) if line["logger"] == "akademia.request"]


def test_sign_in_is_logged_without_password_or_email(json_app, capsys):
    user = create_user(first_name="Vjosa", last_name="Berisha", email="vjosa.b@example.org")
    capsys.readouterr()
    response = json_app.test_client().post(
        "/auth/sign-in",
        data={"email": "vjosa.b@example.org", "password": PASSWORD},
        headers={"X-Request-ID": "lb-7f3a9c01-req"},
    )
    assert response.status_code == 302
    err = capsys.readouterr().err
    [line] = _request_lines(err)
    assert line["request_id"] == "lb-7f3a9c01-req" == response.headers["X-Request-ID"]
    assert line["method"] == "POST"
    assert line["route"] == "/auth/sign-in" and line["endpoint"] == "auth.login"
    assert line["status"] == 302
    assert line["user_id"] == user.id
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    for secret in (PASSWORD, "vjosa.b@example.org", "vjosa.b", "Vjosa", "Berisha"):
        assert secret not in err


def test_token_in_path_and_query_string_is_not_logged(json_app, capsys):
    user = create_user(email="token.owner@example.org")
    token = auth_services.make_password_token(user.person, user)
    capsys.readouterr()
    response = json_app.test_client().get(
        f"/auth/reset-password/{token}?token=QuerySecret123&next=/x",
        headers={"X-Request-ID": "bad id with spaces"},
    )
    assert response.status_code == 200
    err = capsys.readouterr().err
    [line] = _request_lines(err)
    assert line["route"] == "/auth/reset-password/<token>"
    assert line["endpoint"] == "auth.reset_password"
    assert (line["method"], line["status"], line["user_id"]) == ("GET", 200, None)
    # An unusable incoming id is replaced by one of ours, returned to the caller.
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert len(line["request_id"]) == 32 and " " not in line["request_id"]
    for secret in (token, "QuerySecret123", "token.owner", "next=", "?"):
        assert secret not in err


def test_unhandled_error_is_logged_with_traceback_and_request_id(json_app, capsys):
    capsys.readouterr()
    response = json_app.test_client().get("/test-only/boom?token=QuerySecret123")
    assert response.status_code == 500
    err = capsys.readouterr().err
    request_id = response.headers["X-Request-ID"]
    [error] = [line for line in _lines(err) if line["level"] == "ERROR"]
    assert error["request_id"] == request_id
    assert "Traceback" in error["traceback"] and "RuntimeError" in error["traceback"]
    assert "boom" in error["message"]
    [line] = _request_lines(err)
    assert (line["status"], line["request_id"]) == (500, request_id)
    assert "someone@example.org" not in err and "QuerySecret123" not in err


def test_health_checks_are_logged_only_at_debug(json_app, capsys):
    capsys.readouterr()
    assert json_app.test_client().get("/healthz").status_code == 200
    assert _request_lines(capsys.readouterr().err) == []


def test_text_format_on_request(app, capsys):
    with second_app(app, LOG_FORMAT="text") as other:
        capsys.readouterr()
        response = other.test_client().get("/about", headers={"X-Request-ID": "abcdef12"})
        err = capsys.readouterr().err
    assert response.headers["X-Request-ID"] == "abcdef12"
    assert "akademia.request [abcdef12] GET /about 200" in err


def test_sessions_store_the_client_address_from_the_proxy_only_when_trusted(app):
    from app.auth.models import UserSession

    user = create_user()
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    data = {"email": user.person.email, "password": PASSWORD}
    with second_app(app, PROXY_COUNT=1) as behind_proxy:
        response = behind_proxy.test_client().post("/auth/sign-in", data=data, headers=headers)
        assert response.status_code == 302
    db.session.rollback()  # no read snapshot older than the other app's write (SQLite)
    # The session's own app trusts no proxy: the header is a client's claim.
    assert app.test_client().post("/auth/sign-in", data=data, headers=headers).status_code == 302
    db.session.rollback()
    addresses = sorted(
        s.ip_address for s in db.session.query(UserSession).filter_by(user_id=user.id)
    )
    assert addresses == ["127.0.0.1", "203.0.113.9"]


@pytest.mark.parametrize(
    ("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud"), ("PROXY_COUNT", "one")]
)
def test_unknown_logging_and_proxy_settings_stop_the_start(monkeypatch, name, value):
    from app import create_app
    from app.config import ConfigError

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        create_app({"TESTING": True})

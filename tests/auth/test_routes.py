import re

import pytest

from app.auth.models import User
from app.extensions import db
from tests.conftest import PASSWORD, create_user, login


def _link(message, path):
    match = re.search(rf"http://localhost(/auth/{path}/\S+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def test_sign_up_confirm_and_sign_in(client, outbox):
    response = client.post(
        "/auth/sign-up",
        data={
            "first_name": "Đorđe",
            "last_name": "Živković",
            "email": "dj@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 200 and b"Check your inbox" in response.data
    assert len(outbox) == 1
    # Before confirming, the right password still does not open the account.
    response = client.post("/auth/sign-in", data={"email": "dj@example.org", "password": PASSWORD})
    assert b"confirm your e-mail" in response.data
    client.get(_link(outbox[0], "confirm"))
    response = client.post("/auth/sign-in", data={"email": "dj@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_sign_up_with_existing_email_answers_the_same(client, outbox):
    user = create_user()
    response = client.post(
        "/auth/sign-up",
        data={
            "first_name": "A",
            "last_name": "B",
            "email": user.email,
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert b"Check your inbox" in response.data
    assert "already have" in outbox[0]["Subject"]
    assert db.session.query(User).count() == 1


def test_sign_up_weak_password_keeps_input(client):
    response = client.post(
        "/auth/sign-up",
        data={
            "first_name": "Qëndresa",
            "last_name": "Morina",
            "email": "q@example.org",
            "password": "password",
            "confirm": "password",
        },
    )
    assert response.status_code == 200
    assert "Qëndresa".encode() in response.data
    assert b"at least 12 characters" in response.data


def test_sign_in_messages_do_not_reveal_accounts(client):
    user = create_user()
    unknown = client.post(
        "/auth/sign-in", data={"email": "ghost@example.org", "password": PASSWORD}
    )
    wrong = client.post("/auth/sign-in", data={"email": user.email, "password": "wrong-one-here"})
    assert unknown.status_code == wrong.status_code == 200
    assert b"The e-mail or password is not right." in unknown.data
    assert b"The e-mail or password is not right." in wrong.data


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/my-courses", "/my-courses"),
        ("https://evil.example/x", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_next_redirect_is_safe(client, target, expected):
    user = create_user()
    response = client.post(
        f"/auth/sign-in?next={target}", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == expected


def test_sign_out_makes_replayed_cookie_anonymous(app):
    user = create_user()
    client = app.test_client()
    login(client, user)
    cookie = client.get_cookie("session").value
    assert client.get("/my-courses").status_code == 200
    client.post("/auth/sign-out")
    replay = app.test_client()
    replay.set_cookie("session", cookie, domain="localhost")
    response = replay.get("/my-courses")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_password_change_signs_out_other_browsers(app):
    user = create_user()
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    response = first.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "password": "granite-meadow-lantern-7",
            "confirm": "granite-meadow-lantern-7",
        },
    )
    assert response.status_code == 302
    assert first.get("/my-courses").status_code == 200
    assert second.get("/my-courses").status_code == 302


def test_forgot_password_same_answer_and_reset(client, outbox):
    user = create_user()
    unknown = client.post("/auth/forgot-password", data={"email": "ghost@example.org"})
    known = client.post("/auth/forgot-password", data={"email": user.email})
    assert unknown.data.replace(b"ghost@example.org", b"X") == known.data.replace(
        user.email.encode(), b"X"
    )
    assert len(outbox) == 1
    link = _link(outbox[0], "reset-password")
    response = client.post(
        link, data={"password": "granite-meadow-lantern-7", "confirm": "granite-meadow-lantern-7"}
    )
    assert response.status_code == 302
    assert (
        client.post(
            "/auth/sign-in", data={"email": user.email, "password": "granite-meadow-lantern-7"}
        ).status_code
        == 302
    )
    # The link is used up.
    assert client.get(link).status_code == 302


def test_security_headers(client):
    response = client.get("/auth/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_flags(client):
    user = create_user()
    response = client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_required_on_post(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = app.test_client().post("/auth/sign-in", data={"email": "a@b.c", "password": "x"})
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_sign_in_rate_limited_per_address(client):
    codes = [
        client.post("/auth/sign-in", data={"email": f"x{i}@e.org", "password": "nope"}).status_code
        for i in range(31)
    ]
    assert 429 not in codes[:30] and codes[30] == 429


def test_language_choice_is_remembered(client):
    user = create_user()
    login(client, user)
    client.post("/language", data={"locale": "sq", "next": "/"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "sq"

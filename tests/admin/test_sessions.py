"""Administrators see an account's signed-in browsers, end one or all, and reset its 2FA."""

import re

import pytest
import sqlalchemy as sa

from app.auth.models import User, UserSession
from app.auth.roles import Role
from app.extensions import db
from tests.conftest import PASSWORD, create_user, login
from tests.query_counter import count_queries


def _client(app, user, agent):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    login(client, user)
    return client


def _sessions(user):
    return list(
        db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


@pytest.fixture
def admin_client(app):
    admin = create_user(Role.ADMIN)
    return _client(app, admin, "AdminBrowser/1.0"), admin


def test_user_page_lists_sessions_with_a_sign_out_button_each(app, admin_client):
    admin, _ = admin_client
    user = create_user()
    _client(app, user, "Firefox/140 on Linux")
    _client(app, user, "Safari/18 on iPhone")
    body = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Firefox/140 on Linux" in body and "Safari/18 on iPhone" in body
    assert "192.0.2.7" in body
    for row in _sessions(user):
        assert f"/admin/users/{user.id}/sessions/{row.id}/end" in body


def test_ending_one_session_signs_out_that_browser_at_its_next_request(app, admin_client):
    admin, _ = admin_client
    user = create_user()
    laptop = _client(app, user, "Laptop")
    phone = _client(app, user, "Phone")
    assert laptop.get("/my-courses").status_code == 200
    target = next(row for row in _sessions(user) if row.user_agent == "Phone")
    response = admin.post(f"/admin/users/{user.id}/sessions/{target.id}/end")
    assert response.status_code == 302
    gone = phone.get("/my-courses")
    assert gone.status_code == 302 and "/auth/sign-in" in gone.headers["Location"]
    assert laptop.get("/my-courses").status_code == 200
    assert [row.user_agent for row in _sessions(user)] == ["Laptop"]


def test_ending_all_sessions_signs_out_every_browser(app, admin_client):
    admin, _ = admin_client
    user = create_user()
    browsers = [_client(app, user, f"Browser {n}") for n in range(3)]
    admin.post(f"/admin/users/{user.id}/sign-out")
    for browser in browsers:
        assert browser.get("/my-courses").status_code == 302
    assert _sessions(user) == []


def test_a_session_of_another_account_is_not_ended_through_this_one(app, admin_client):
    admin, _ = admin_client
    user, other = create_user(), create_user()
    other_browser = _client(app, other, "Other")
    other_session = _sessions(other)[0]
    response = admin.post(
        f"/admin/users/{user.id}/sessions/{other_session.id}/end", follow_redirects=True
    )
    assert "already signed out" in response.get_data(as_text=True)
    assert other_browser.get("/my-courses").status_code == 200
    assert admin.post(f"/admin/users/999999/sessions/{other_session.id}/end").status_code == 404


def test_user_page_queries_do_not_grow_with_sessions(app, admin_client):
    admin, _ = admin_client
    user = create_user()
    _client(app, user, "One")
    with count_queries() as few:
        admin.get(f"/admin/users/{user.id}")
    for n in range(5):
        _client(app, user, f"More {n}")
    with count_queries() as many:
        admin.get(f"/admin/users/{user.id}")
    assert many.count == few.count


def test_reset_two_factor_signs_out_and_forces_set_up(app, admin_client):
    admin, _ = admin_client
    manager = create_user(Role.MANAGER)
    browsers = [_client(app, manager, f"Browser {n}") for n in range(2)]
    page = admin.get(f"/admin/users/{manager.id}").get_data(as_text=True)
    assert f"/admin/users/{manager.id}/two-factor/reset" in page
    response = admin.post(f"/admin/users/{manager.id}/two-factor/reset", follow_redirects=True)
    assert "2 sessions were ended" in response.get_data(as_text=True)
    for browser in browsers:
        assert browser.get("/my-courses").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, manager.id).two_factor_enabled
    assert "Set up at next sign-in" in admin.get(f"/admin/users/{manager.id}").get_data(
        as_text=True
    )
    # The old authenticator is useless now, and the next sign-in leads to a new set-up.
    fresh = app.test_client()
    response = fresh.post("/auth/sign-in", data={"email": manager.email, "password": PASSWORD})
    assert response.headers["Location"] == "/auth/two-factor/setup"
    assert fresh.get("/programmes").headers["Location"] == "/auth/two-factor/setup"


def test_administrators_cannot_reset_their_own_second_factor(admin_client):
    admin, me = admin_client
    assert f"/admin/users/{me.id}/two-factor/reset" not in admin.get(
        f"/admin/users/{me.id}"
    ).get_data(as_text=True)
    response = admin.post(f"/admin/users/{me.id}/two-factor/reset", follow_redirects=True)
    assert "Ask another administrator" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, me.id).two_factor_enabled
    assert admin.get("/admin").status_code == 200


def test_password_change_ends_the_other_sessions_of_a_two_factor_account(app):
    user = create_user(Role.ADMIN)
    first, second = _client(app, user, "First"), _client(app, user, "Second")
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
    assert [row.user_agent for row in _sessions(user)] == ["First"]


@pytest.mark.parametrize("action", ["sessions/{session}/end", "two-factor/reset"])
def test_session_actions_need_the_csrf_token(app, admin_client, action):
    admin, _ = admin_client
    user = create_user(Role.MANAGER)
    browser = _client(app, user, "Target")
    url = f"/admin/users/{user.id}/" + action.format(session=_sessions(user)[0].id)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert admin.post(url).status_code == 400
        page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert browser.get("/my-courses").status_code == 200
        assert admin.post(url, data={"csrf_token": token}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert browser.get("/my-courses").status_code == 302

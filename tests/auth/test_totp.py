"""Two-step sign-in: the service rules with a fixed clock, then the sign-in flows over HTTP."""

import hashlib
import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from app.auth import services, sessions, two_factor
from app.auth.models import LoginFailure, RecoveryCode, User, UserRole, UserSession
from app.auth.roles import Role
from app.errors import DomainError, NotAllowed
from app.extensions import db
from tests.conftest import PASSWORD, TOTP_SECRET, create_user, login

NOW = datetime(2026, 5, 4, 10, 0, 15)  # naive UTC, as the app stores times


def code_at(secret: str, moment: datetime) -> str:
    """What an authenticator app shows at that moment."""
    return pyotp.TOTP(secret).at(moment.replace(tzinfo=UTC))


def failures() -> int:
    return db.session.scalar(sa.select(sa.func.count(LoginFailure.id)))


def set_up(user: User, now: datetime = NOW) -> tuple[str, list[str]]:
    secret, _new = two_factor.begin_setup(user)
    codes = two_factor.confirm_setup(user=user, code=code_at(secret, now), now=now, ip_address=None)
    db.session.commit()
    return secret, codes


# --- set-up -------------------------------------------------------------------------------


def test_setup_turns_on_with_a_right_code_and_gives_ten_recovery_codes():
    user = create_user()
    secret, new = two_factor.begin_setup(user)
    assert new and not user.two_factor_enabled
    with pytest.raises(two_factor.WrongCode):
        two_factor.confirm_setup(user=user, code="000000", now=NOW, ip_address=None)
    assert not user.two_factor_enabled
    codes = two_factor.confirm_setup(user=user, code=code_at(secret, NOW), now=NOW, ip_address=None)
    assert user.two_factor_enabled
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    # Only hashes are kept, the same SHA-256 as session tokens.
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}


def test_secret_is_stored_encrypted_and_kept_while_set_up_is_under_way():
    user = create_user()
    secret, _new = two_factor.begin_setup(user)
    assert secret not in user.totp_secret
    again, new = two_factor.begin_setup(user)
    assert again == secret and not new
    set_up_user = create_user()
    set_up(set_up_user)
    with pytest.raises(NotAllowed):
        two_factor.begin_setup(set_up_user)


def test_secret_stays_readable_when_a_dedicated_key_is_added(app, monkeypatch):
    user = create_user()
    secret, _new = two_factor.begin_setup(user)  # encrypted with the SECRET_KEY-derived key
    monkeypatch.setitem(app.config, "TOTP_ENCRYPTION_KEY", "a-dedicated-totp-key-" + "k" * 20)
    assert two_factor.begin_setup(user) == (secret, False)
    other = create_user()
    other_secret, _new = two_factor.begin_setup(other)
    monkeypatch.setitem(app.config, "TOTP_ENCRYPTION_KEY", None)
    # Without the key it was encrypted with, the secret cannot be read: a fresh set-up starts.
    fresh, new = two_factor.begin_setup(other)
    assert new and fresh != other_secret


def test_qr_code_is_inline_svg_of_the_otpauth_uri():
    user = create_user()
    secret, _new = two_factor.begin_setup(user)
    uri = two_factor.provisioning_uri(user, secret)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert "issuer=Akademia" in uri
    svg = str(two_factor.qr_svg(uri))
    assert svg.startswith("<svg") and "<path" in svg and "http" not in svg


# --- codes ----------------------------------------------------------------------------------


def test_codes_are_accepted_one_step_either_side_and_not_further():
    user = create_user(two_factor=True)
    for offset in (-60, 60, 90):
        with pytest.raises(two_factor.WrongCode):
            two_factor.complete_sign_in(
                user=user,
                code=code_at(TOTP_SECRET, NOW + timedelta(seconds=offset)),
                now=NOW,
                ip_address=None,
            )
    # Earlier step first: each accepted code moves the last used step forward.
    for offset in (-30, 0, 30):
        assert (
            two_factor.complete_sign_in(
                user=user,
                code=code_at(TOTP_SECRET, NOW + timedelta(seconds=offset)),
                now=NOW,
                ip_address=None,
            )
            == "app"
        )


def test_a_code_cannot_be_used_twice_nor_an_older_one_after_it():
    user = create_user(two_factor=True)
    code = code_at(TOTP_SECRET, NOW)
    two_factor.complete_sign_in(user=user, code=code, now=NOW, ip_address=None)
    db.session.commit()
    with pytest.raises(two_factor.WrongCode):
        two_factor.complete_sign_in(user=user, code=code, now=NOW, ip_address=None)
    older = code_at(TOTP_SECRET, NOW - timedelta(seconds=30))
    with pytest.raises(two_factor.WrongCode):
        two_factor.complete_sign_in(user=user, code=older, now=NOW, ip_address=None)
    # The next step's code is fine 30 seconds later.
    later = NOW + timedelta(seconds=30)
    two_factor.complete_sign_in(
        user=user, code=code_at(TOTP_SECRET, later), now=later, ip_address=None
    )


def test_codes_with_spaces_are_accepted():
    user = create_user(two_factor=True)
    code = code_at(TOTP_SECRET, NOW)
    two_factor.complete_sign_in(
        user=user, code=f" {code[:3]} {code[3:]} ", now=NOW, ip_address=None
    )


def test_wrong_codes_count_under_the_sign_in_lockout(app):
    user = create_user(two_factor=True)
    for _ in range(app.config["LOGIN_THROTTLE_FAILURES"]):
        with pytest.raises(two_factor.WrongCode):
            two_factor.complete_sign_in(user=user, code="123456", now=NOW, ip_address="10.0.0.1")
    with pytest.raises(services.Throttled):
        two_factor.complete_sign_in(
            user=user, code=code_at(TOTP_SECRET, NOW), now=NOW, ip_address=None
        )
    # The password step is locked too.
    with pytest.raises(services.Throttled):
        services.authenticate(email=user.email, password=PASSWORD, ip_address=None)


def test_right_password_does_not_forget_wrong_codes():
    user = create_user(two_factor=True)
    with pytest.raises(two_factor.WrongCode):
        two_factor.complete_sign_in(user=user, code="123456", now=NOW, ip_address=None)
    assert services.authenticate(email=user.email, password=PASSWORD, ip_address=None) == user
    assert failures() == 1 and user.last_login_at is None
    two_factor.complete_sign_in(user=user, code=code_at(TOTP_SECRET, NOW), now=NOW, ip_address=None)
    assert failures() == 0 and user.last_login_at is not None


def test_recovery_code_works_once():
    user = create_user()
    _secret, codes = set_up(user)
    typed = codes[3].upper().replace("-", " ")
    assert two_factor.complete_sign_in(user=user, code=typed, now=NOW, ip_address=None) == (
        "recovery"
    )
    db.session.commit()
    assert two_factor.unused_recovery_codes(user) == 9
    with pytest.raises(two_factor.WrongCode):
        two_factor.complete_sign_in(user=user, code=codes[3], now=NOW, ip_address=None)
    assert failures() == 1


def test_recovery_codes_of_another_account_do_not_work():
    first, second = create_user(), create_user()
    _secret, codes = set_up(first)
    set_up(second)
    with pytest.raises(two_factor.WrongCode):
        two_factor.complete_sign_in(user=second, code=codes[0], now=NOW, ip_address=None)


def test_regenerating_recovery_codes_needs_a_code_and_retires_the_old_ones():
    user = create_user()
    secret, old = set_up(user)
    later = NOW + timedelta(minutes=1)
    with pytest.raises(two_factor.WrongCode):
        two_factor.regenerate_recovery_codes(user=user, code=old[0], now=later, ip_address=None)
    new = two_factor.regenerate_recovery_codes(
        user=user, code=code_at(secret, later), now=later, ip_address=None
    )
    assert len(new) == 10 and not set(new) & set(old)
    with pytest.raises(two_factor.WrongCode):
        two_factor.complete_sign_in(user=user, code=old[1], now=later, ip_address=None)
    assert two_factor.complete_sign_in(user=user, code=new[0], now=later, ip_address=None) == (
        "recovery"
    )


def test_disable_needs_password_and_code():
    user = create_user()
    secret, _codes = set_up(user)
    later = NOW + timedelta(minutes=1)
    with pytest.raises(DomainError) as wrong_password:
        two_factor.disable(
            user=user,
            password="not-the-password",
            code=code_at(secret, later),
            now=later,
            ip_address=None,
        )
    assert wrong_password.value.field == "password"
    with pytest.raises(two_factor.WrongCode):
        two_factor.disable(user=user, password=PASSWORD, code="000000", now=later, ip_address=None)
    assert user.two_factor_enabled and failures() == 2
    two_factor.disable(
        user=user, password=PASSWORD, code=code_at(secret, later), now=later, ip_address=None
    )
    assert not user.two_factor_enabled and user.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_roles_that_require_it_cannot_disable(role):
    user = create_user(role)
    with pytest.raises(NotAllowed):
        two_factor.disable(
            user=user, password=PASSWORD, code=code_at(TOTP_SECRET, NOW), now=NOW, ip_address=None
        )
    assert user.two_factor_enabled


def test_admin_reset_clears_the_second_factor_and_ends_sessions():
    admin = create_user(Role.ADMIN)
    user = create_user(Role.MANAGER)
    for _ in range(2):
        sessions.start_session(user, ip_address=None, user_agent="x")
    db.session.commit()
    assert two_factor.reset(user=user, by=admin) == 2
    db.session.commit()
    assert not user.two_factor_enabled and user.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0
    with pytest.raises(NotAllowed):
        two_factor.reset(user=admin, by=admin)


# --- over HTTP ------------------------------------------------------------------------------


def _sessions_of(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == user.id)
    )


def test_sign_in_asks_for_the_code_and_the_password_alone_is_not_a_session(client):
    user = create_user(two_factor=True)
    response = client.post(
        "/auth/sign-in?next=/my-courses", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/auth/sign-in/code"
    assert _sessions_of(user) == 0
    blocked = client.get("/my-courses")
    assert blocked.status_code == 302 and "/auth/sign-in" in blocked.headers["Location"]
    page = client.get("/auth/sign-in/code")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.get_data(as_text=True)
    wrong = client.post("/auth/sign-in/code", data={"code": "000000"})
    assert wrong.status_code == 200 and "The code is not right" in wrong.get_data(as_text=True)
    assert _sessions_of(user) == 0
    response = client.post("/auth/sign-in/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.status_code == 302 and response.headers["Location"] == "/my-courses"
    assert _sessions_of(user) == 1
    assert client.get("/my-courses").status_code == 200
    # Signed in: the code page is not needed any more, and its state is gone.
    assert client.get("/auth/sign-in/code").headers["Location"] == "/"


def test_the_same_code_cannot_sign_in_a_second_browser(app):
    user = create_user(two_factor=True)
    code = pyotp.TOTP(TOTP_SECRET).now()
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    assert first.post("/auth/sign-in/code", data={"code": code}).status_code == 302
    refused = second.post("/auth/sign-in/code", data={"code": code})
    assert refused.status_code == 200 and _sessions_of(user) == 1


def test_code_step_without_or_after_the_password_step_expires(client, app):
    user = create_user(two_factor=True)
    response = client.get("/auth/sign-in/code")
    assert response.headers["Location"] == "/auth/sign-in"
    client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        max_age = app.config["TWO_FACTOR_PENDING_SECONDS"]
        session["pending_sign_in"] = {
            **session["pending_sign_in"],
            "at": int(time.time()) - max_age - 1,
        }
    response = client.post("/auth/sign-in/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.headers["Location"] == "/auth/sign-in"
    assert _sessions_of(user) == 0


def test_wrong_codes_lock_the_account_over_http(client, app):
    user = create_user(two_factor=True)
    client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    for _ in range(app.config["LOGIN_THROTTLE_FAILURES"]):
        client.post("/auth/sign-in/code", data={"code": "000000"})
    response = client.post("/auth/sign-in/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert _sessions_of(user) == 0
    # Entering the password again does not reopen the guessing.
    again = client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    assert again.status_code == 200 and "Too many failed attempts" in again.get_data(as_text=True)


def test_recovery_code_signs_in_and_says_how_many_are_left(client):
    user = create_user()
    _secret, codes = set_up(user, now=datetime.now(UTC).replace(tzinfo=None))
    client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    response = client.post("/auth/sign-in/code", data={"code": codes[0]}, follow_redirects=True)
    assert "9 are left" in response.get_data(as_text=True)
    client.post("/auth/sign-out")
    client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    assert client.post("/auth/sign-in/code", data={"code": codes[0]}).status_code == 200
    assert _sessions_of(user) == 0


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_required_roles_are_sent_to_set_up_before_anything_else(client, role):
    user = create_user(role, two_factor=False)
    response = client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/auth/two-factor/setup"
    for path in ["/", "/my-courses", "/admin", "/programmes", "/auth/two-factor", "/profile"]:
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked.headers["Location"] == "/auth/two-factor/setup", path
    assert client.get("/static/css/main.css").status_code == 200
    page = client.get("/auth/two-factor/setup")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in body and "requires two-step sign-in" in body
    db.session.expire_all()
    secret = two_factor._decrypt(db.session.get(User, user.id).totp_secret)
    assert " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in body
    # Reloading the page keeps the secret the app has already scanned.
    assert secret.replace(" ", "")[:4] in client.get("/auth/two-factor/setup").get_data(
        as_text=True
    )
    wrong = client.post("/auth/two-factor/setup", data={"code": "000000"})
    assert wrong.status_code == 200 and "The code is not right" in wrong.get_data(as_text=True)
    done = client.post("/auth/two-factor/setup", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert client.get("/my-courses").status_code == 200
    # The secret is not shown again.
    settings = client.get("/auth/two-factor/setup")
    assert settings.headers["Location"] == "/auth/two-factor"
    assert secret[:8] not in client.get("/auth/two-factor").get_data(as_text=True)
    # Next time the code is asked for.
    client.post("/auth/sign-out")
    response = client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/auth/sign-in/code"


def test_a_role_given_while_signed_in_requires_set_up_at_the_next_request(client):
    user = create_user(Role.LEARNER)
    login(client, user)
    assert client.get("/my-courses").status_code == 200
    db.session.add(UserRole(user_id=user.id, role=Role.MANAGER))
    db.session.commit()
    assert client.get("/my-courses").headers["Location"] == "/auth/two-factor/setup"


def test_turning_it_on_signs_out_other_browsers(app):
    user = create_user()
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    first.get("/auth/two-factor/setup")
    db.session.expire_all()
    secret = two_factor._decrypt(db.session.get(User, user.id).totp_secret)
    assert (
        first.post("/auth/two-factor/setup", data={"code": pyotp.TOTP(secret).now()}).status_code
        == 200
    )
    assert first.get("/my-courses").status_code == 200
    assert second.get("/my-courses").status_code == 302


def test_settings_regenerate_and_disable_over_http(client):
    user = create_user(two_factor=True)
    login(client, user)
    page = client.get("/auth/two-factor").get_data(as_text=True)
    assert "0 recovery codes are left" in page
    wrong = client.post("/auth/two-factor/recovery-codes", data={"regen-code": "000000"})
    assert wrong.status_code == 400 and "The code is not right" in wrong.get_data(as_text=True)
    # The code the fixture signed in with is used up; the next step's code is fresh.
    next_code = pyotp.TOTP(TOTP_SECRET).at(time.time() + 30)
    made = client.post("/auth/two-factor/recovery-codes", data={"regen-code": next_code})
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", made.get_data(as_text=True))
    assert made.status_code == 200 and len(codes) == 10
    refused = client.post(
        "/auth/two-factor/disable", data={"off-password": "wrong-one", "off-code": codes[0]}
    )
    assert refused.status_code == 400 and "Your password is not right" in refused.get_data(
        as_text=True
    )
    response = client.post(
        "/auth/two-factor/disable", data={"off-password": PASSWORD, "off-code": codes[0]}
    )
    assert response.headers["Location"] == "/auth/two-factor"
    db.session.expire_all()
    assert not db.session.get(User, user.id).two_factor_enabled


def test_administrators_cannot_turn_it_off_over_http(client):
    admin = create_user(Role.ADMIN)
    login(client, admin)
    assert "cannot be turned off" in client.get("/auth/two-factor").get_data(as_text=True)
    response = client.post(
        "/auth/two-factor/disable",
        data={"off-password": PASSWORD, "off-code": pyotp.TOTP(TOTP_SECRET).at(time.time() + 30)},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, admin.id).two_factor_enabled


@pytest.mark.parametrize(
    "path",
    [
        "/auth/sign-in/code",
        "/auth/two-factor/setup",
        "/auth/two-factor/recovery-codes",
        "/auth/two-factor/disable",
    ],
)
def test_two_factor_posts_need_the_csrf_token(app, path):
    user = create_user(two_factor=path != "/auth/two-factor/setup")
    client = app.test_client()
    if path == "/auth/sign-in/code":
        client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})
    else:
        login(client, user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        code = pyotp.TOTP(TOTP_SECRET).at(time.time() + 30)
        data = {"code": code, "regen-code": code, "off-code": code, "off-password": PASSWORD}
        assert client.post(path, data=data).status_code == 400
        if path == "/auth/sign-in/code":
            # With the token from the form the same code is accepted.
            page = client.get(path).get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            response = client.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert user.id  # the account is untouched by the refused posts
    db.session.expire_all()
    assert db.session.get(User, user.id).two_factor_enabled == (path != "/auth/two-factor/setup")


def test_reset_command_is_the_way_back_in_for_the_last_administrator(runner):
    admin = create_user(Role.ADMIN)
    sessions.start_session(admin, ip_address=None, user_agent="x")
    db.session.commit()
    result = runner.invoke(args=["users", "reset-two-factor", admin.email.upper()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not db.session.get(User, admin.id).two_factor_enabled
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0
    unknown = runner.invoke(args=["users", "reset-two-factor", "nobody@example.org"])
    assert unknown.exit_code != 0 and "No account" in unknown.output

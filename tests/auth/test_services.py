import pytest
import sqlalchemy as sa

from app.auth import passwords, services
from app.auth.models import LoginFailure, User, UserSession
from app.auth.sessions import end_other_sessions, load_user_from_session, start_session
from app.errors import DomainError
from app.extensions import db
from tests.conftest import PASSWORD, create_person, create_user


def test_policy_refuses_short_and_common_passwords():
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy("short")
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy("password1234")
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy("qwertyuiopasdf")
    passwords.check_policy("violet-harbour-cactus-91")


def test_policy_refuses_password_made_of_own_name():
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy("arbereshakrasniqi", ["arberesha", "krasniqi"])


def test_long_passwords_are_not_truncated():
    base = "x7#Qm" * 20
    stored = passwords.hash_password(base + "A")
    assert passwords.verify_password(stored, base + "A")
    assert not passwords.verify_password(stored, base + "B")
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy("k" * 257)


def test_register_creates_unconfirmed_learner():
    result = services.register_learner(
        first_name="Çlirim",
        last_name="Bytyçi",
        email="Clirim@Example.org",
        password=PASSWORD,
        locale="sq",
    )
    assert result.outcome == "created"
    assert result.user.email == "clirim@example.org"
    assert result.user.email_confirmed_at is None
    assert result.user.password_hash.startswith("$argon2id$")


def test_register_with_known_email_creates_nothing():
    person = create_person(email="known@example.org")
    result = services.register_learner(
        first_name="X", last_name="Y", email="KNOWN@example.org", password=PASSWORD, locale=None
    )
    assert result.outcome == "claim" and result.person.id == person.id
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    user = create_user()
    again = services.register_learner(
        first_name="X", last_name="Y", email=user.email, password=PASSWORD, locale=None
    )
    assert again.outcome == "exists"


def test_authenticate_same_error_for_unknown_and_wrong(app):
    user = create_user()
    with pytest.raises(services.SignInFailed) as unknown:
        services.authenticate(email="nobody@example.org", password=PASSWORD, ip_address="1.2.3.4")
    with pytest.raises(services.SignInFailed) as wrong:
        services.authenticate(email=user.email, password="wrong-password-123", ip_address="1.2.3.4")
    assert unknown.value.message == wrong.value.message


def test_authenticate_throttles_one_account(app):
    user = create_user()
    for _ in range(app.config["LOGIN_THROTTLE_FAILURES"]):
        with pytest.raises(services.SignInFailed):
            services.authenticate(email=user.email, password="bad-password-xyz", ip_address=None)
    with pytest.raises(services.Throttled):
        services.authenticate(email=user.email, password=PASSWORD, ip_address=None)


def test_successful_sign_in_clears_failures():
    user = create_user()
    with pytest.raises(services.SignInFailed):
        services.authenticate(email=user.email, password="bad-password-xyz", ip_address=None)
    assert services.authenticate(email=user.email, password=PASSWORD, ip_address=None) == user
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 0


def test_unconfirmed_user_cannot_sign_in():
    user = create_user(confirmed=False)
    with pytest.raises(services.EmailNotConfirmed):
        services.authenticate(email=user.email, password=PASSWORD, ip_address=None)


def test_confirm_token_confirms():
    user = create_user(confirmed=False)
    token = services.make_confirm_token(user)
    assert services.confirm_email(token).email_confirmed_at is not None
    with pytest.raises(services.BadToken):
        services.confirm_email(token + "x")


def test_password_token_is_single_use():
    user = create_user()
    token = services.make_password_token(user.person, user)
    services.reset_password(token=token, new_password="granite-meadow-lantern-7")
    db.session.commit()
    with pytest.raises(services.BadToken):
        services.reset_password(token=token, new_password="another-quiet-river-88")


def test_password_token_for_person_without_account_creates_one():
    person = create_person(email="imported@example.org")
    token = services.make_password_token(person, None)
    user = services.reset_password(token=token, new_password="granite-meadow-lantern-7")
    assert user.person_id == person.id and user.email_confirmed_at is not None


def test_change_password_ends_other_sessions():
    user = create_user()
    keep = start_session(user, ip_address=None, user_agent="a")
    start_session(user, ip_address=None, user_agent="b")
    db.session.commit()
    ended = services.change_password(
        user=user,
        current_password=PASSWORD,
        new_password="granite-meadow-lantern-7",
        keep_token=keep,
    )
    assert ended == 1
    assert load_user_from_session(keep) == user


def test_change_password_checks_current():
    user = create_user()
    with pytest.raises(DomainError):
        services.change_password(
            user=user,
            current_password="nope",
            new_password="granite-meadow-lantern-7",
            keep_token=None,
        )


def test_session_token_stored_hashed():
    user = create_user()
    token = start_session(user, ip_address=None, user_agent=None)
    db.session.commit()
    stored = db.session.scalar(sa.select(UserSession.token_hash))
    assert token not in stored and len(stored) == 64
    end_other_sessions(user, keep_token=None)
    assert load_user_from_session(token) is None

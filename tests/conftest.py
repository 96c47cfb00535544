"""Fixtures: one app and schema per test session, emptied between tests.

TEST_DATABASE_URL selects PostgreSQL; without it a SQLite file in a temporary folder is used.
"""

import itertools
import os
from datetime import date, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from flask import g

from app import create_app
from app.auth import passwords
from app.auth import two_factor as two_factor_service
from app.auth.models import User, UserRole
from app.auth.roles import TWO_FACTOR_ROLES, Role
from app.courses.models import Course, CourseRun
from app.database import import_models
from app.extensions import db, limiter
from app.people.models import Person, Sex, TargetGroup
from app.places.models import Municipality
from app.places.services import seed_places
from app.programmes.models import Programme, ProgrammeMember

PASSWORD = "violet-harbour-cactus-91"
# The authenticator secret of fixture users whose role requires two-step sign-in.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Reference data loaded once and kept between tests.
KEEP_TABLES = {"region", "municipality"}
_counter = itertools.count(1)

# Hashing with Argon2's default cost for every fixture user would dominate the run time.
_PASSWORD_HASH = passwords.hash_password(PASSWORD)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{instance / 'test.db'}"
    os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "MAIL_BACKEND": "memory",
            "SQLITE_IMMEDIATE_OUTSIDE_REQUESTS": False,
            "SERVER_NAME": "localhost",
            "SECRET_KEY": "test-secret-key-" + "x" * 40,
        }
    )
    app.instance_path = str(instance)

    # Tests hold an app context open so they can call services directly; requests then share
    # its `g`, where Flask-Login caches the signed-in user. Forget it at each request so every
    # test client is judged by its own cookie.
    # It runs first, before the app's own hooks (the two-step set-up check reads current_user).
    def _forget_cached_user():
        g.pop("_login_user", None)

    app.before_request_funcs.setdefault(None, []).insert(0, _forget_cached_user)

    with app.app_context():
        import_models()
        db.drop_all()
        db.create_all()
        seed_places()
        db.session.commit()
        with db.engine.connect() as conn:
            app.extensions["seeded_rows"] = _kept_rows(conn)
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _kept_rows(conn) -> dict[str, list[dict]]:
    kept = [t for t in db.metadata.sorted_tables if t.name in KEEP_TABLES]
    return {
        t.name: [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
        for t in kept
    }


def _restore_kept_rows(conn, seeded: dict[str, list[dict]]) -> None:
    """The places are seeded once per session; a test that changed them (an administrator
    renaming a municipality, the fuzzer) must not leave later tests a different Kosovo."""
    if _kept_rows(conn) == seeded:
        return
    tables = [t for t in db.metadata.sorted_tables if t.name in KEEP_TABLES]
    for table in reversed(tables):
        conn.execute(table.delete())
    for table in tables:
        conn.execute(table.insert(), seeded[table.name])


@pytest.fixture(autouse=True)
def _clean_database(app):
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in KEEP_TABLES:
                    conn.execute(table.delete())
            _restore_kept_rows(conn, app.extensions["seeded_rows"])
        app.extensions["mail_outbox"] = []
        limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app):
    app.extensions["mail_outbox"] = []
    return app.extensions["mail_outbox"]


def municipality(code: str = "prishtine") -> Municipality:
    return db.session.scalar(sa.select(Municipality).where(Municipality.code == code))


def create_person(**values) -> Person:
    n = next(_counter)
    defaults = dict(
        first_name=f"Arbëresha{n}",
        last_name=f"Krasniqi{n}",
        email=f"person{n}@example.org",
        sex=Sex.FEMALE,
        birth_year=1990,
        target_group=TargetGroup.MUNICIPAL_OFFICIAL,
        municipality=municipality(),
    )
    defaults.update(values)
    person = Person(**defaults)
    db.session.add(person)
    db.session.flush()
    return person


def create_user(
    *roles: Role,
    programme: Programme | None = None,
    confirmed=True,
    two_factor: bool | None = None,
    **person_values,
) -> User:
    """A user with PASSWORD; two_factor=None turns two-step sign-in on (with TOTP_SECRET)
    exactly when one of the roles requires it."""
    person = create_person(**person_values)
    user = User(
        person=person,
        password_hash=_PASSWORD_HASH,
        email_confirmed_at=datetime(2026, 1, 1) if confirmed else None,
    )
    for role in roles or (Role.LEARNER,):
        user.role_rows.append(UserRole(role=role))
    if two_factor is None:
        two_factor = bool(set(roles) & set(TWO_FACTOR_ROLES))
    if two_factor:
        enable_two_factor(user)
    db.session.add(user)
    db.session.flush()
    if programme is not None:
        for role in roles:
            if role in (Role.MANAGER, Role.TRAINER):
                db.session.add(ProgrammeMember(programme=programme, user=user, role=role))
    db.session.commit()
    return user


def create_programme(**values) -> Programme:
    n = next(_counter)
    defaults = dict(
        code=f"PRG-{n}",
        name=f"Programme {n}",
        donor="Demo Donor",
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
    )
    defaults.update(values)
    programme = Programme(**defaults)
    db.session.add(programme)
    db.session.commit()
    return programme


def create_course(**values) -> Course:
    n = next(_counter)
    defaults = dict(
        slug=f"course-{n}",
        code=f"TC-{n:03d}",
        title_en=f"Course {n}",
        title_sq=f"Kursi {n}",
        title_sr=f"Kurs {n}",
        summary_en="A summary.",
        description_en="A *description*.",
        hours=8,
        level=2,
    )
    defaults.update(values)
    course = Course(**defaults)
    db.session.add(course)
    db.session.commit()
    return course


def create_run(
    programme: Programme | None = None, course: Course | None = None, **values
) -> CourseRun:
    now = datetime.now().replace(microsecond=0)
    defaults = dict(
        programme=programme or create_programme(),
        course=course or create_course(),
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 5),
        venue="Municipal hall",
        municipality=municipality(),
        language="sq",
        capacity=10,
        enrol_opens_at=now - timedelta(days=10),
        enrol_closes_at=now + timedelta(days=10),
    )
    defaults.update(values)
    run = CourseRun(**defaults)
    db.session.add(run)
    db.session.commit()
    return run


def enable_two_factor(user: User, secret: str = TOTP_SECRET) -> None:
    user.totp_secret = two_factor_service._encrypt(secret)
    user.totp_enabled_at = datetime(2026, 1, 1)
    user.totp_last_step = None


def login(client, user: User, password: str = PASSWORD):
    """Sign in through the form, passing the code step for users with two-step sign-in."""
    response = client.post("/auth/sign-in", data={"email": user.person.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.headers["Location"].endswith("/auth/sign-in/code"):
        # Several clients may sign the same user in within one 30-second step, which the app
        # rightly refuses as a reused code; the fixture forgets the last used step instead.
        db.session.execute(sa.update(User).where(User.id == user.id).values(totp_last_step=None))
        db.session.commit()
        code = pyotp.TOTP(TOTP_SECRET).now()
        response = client.post("/auth/sign-in/code", data={"code": code})
        assert response.status_code == 302, response.get_data(as_text=True)
    return response

"""The URL × role matrix: every view is either marked public or checks roles, and the checks hold.

Adding a view without @public, @login_required or @role_required fails this test.
"""

import re

import pytest

from app.activities.models import ActivityParticipant
from app.auth.models import UserSession
from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.enrollment.services import enrol
from app.extensions import db
from app.programmes.models import ProgrammeMember
from tests.conftest import (
    create_course,
    create_person,
    create_programme,
    create_run,
    create_user,
    login,
)

ROLES = [None, Role.LEARNER, Role.TRAINER, Role.MANAGER, Role.ADMIN]
SKIP_ENDPOINTS = {"static"}


def _views(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        yield rule, app.view_functions[rule.endpoint]


def test_every_view_declares_who_may_open_it(app):
    unmarked = [
        rule.rule
        for rule, view in _views(app)
        if not getattr(view, "is_public", False) and not hasattr(view, "required_roles")
    ]
    assert unmarked == [], f"views without @public/@login_required/@role_required: {unmarked}"


@pytest.fixture
def world():
    """One of everything a URL can point at, in a programme every role belongs to."""
    programme = create_programme()
    run = create_run(programme, create_course(slug="access-course"))
    users = {role: create_user(role, programme=programme) for role in ROLES if role}
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=users[Role.TRAINER].id))
    person = create_person()
    enrollment = enrol(run=run, person=person, by=None)
    db.session.commit()
    from app.courses.models import Lesson, Module

    module = Module(course=run.course, slug="m", position=1, title_en="M")
    module.lessons.append(Lesson(slug="l", position=1, title_en="L", body_md="x"))
    db.session.add(module)
    db.session.commit()
    member = db.session.query(ProgrammeMember).first()
    from datetime import datetime

    from app.attendance.services import schedule_session

    session = schedule_session(
        run=run,
        starts_at=datetime(2026, 12, 2, 9, 0),
        ends_at=datetime(2026, 12, 2, 12, 0),
        venue="Sala",
        municipality_id=run.municipality_id,
        trainer_id=users[Role.TRAINER].id,
    )
    db.session.commit()
    from tests.activities.helpers import create_activity

    activity = create_activity(programme)
    activity.participants.append(ActivityParticipant(person_id=person.id))
    db.session.commit()
    # Certificates: one issued to the enrolled person, and a bulk job of the run.
    from app.certificates import pipeline
    from app.certificates import services as certificate_services
    from app.certificates.models import CertificateKind, CertificateLanguage

    certificate = certificate_services.claim(
        run=run,
        person=person,
        kind=CertificateKind.ATTENDANCE,
        language=CertificateLanguage.EN,
        by=None,
        now=datetime(2026, 12, 6),
    )
    job, _created = certificate_services.start_job(run, by=users[Role.MANAGER], output_format="zip")
    db.session.info.pop("certificates_after_commit", None)
    db.session.commit()
    pipeline.complete_certificate(certificate.id)
    from app.auth.sessions import start_session

    start_session(users[Role.LEARNER], ip_address=None, user_agent="access test")
    db.session.commit()
    user_session = db.session.query(UserSession).one()
    values = {
        "user_session_id": user_session.id,
        "certificate_id": certificate.id,
        "job_id": job.id,
        "code": certificate.code,
        "activity_id": activity.id,
        "participant_id": activity.participants[0].id,
        "session_id": session.id,
        "programme_id": programme.id,
        "run_id": run.id,
        "enrollment_id": enrollment.id,
        "person_id": person.id,
        "user_id": users[Role.LEARNER].id,
        "slug": "access-course",
        "lesson_slug": "l",
        "token": "not-a-valid-token",
        "member_id": member.id,
        "municipality_id": run.municipality_id,
        "id": person.id,
        "fmt": "csv",
    }
    return users, values


def _url(rule, values):
    missing = [arg for arg in rule.arguments if arg not in values]
    if missing:
        # Look up by name suffix (period_id, institution_id, …) before giving up.
        for arg in missing:
            assert arg.endswith("_id"), f"add a sample value for <{arg}> in {rule.rule}"
            values = {**values, arg: 1}
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_matrix(app, world):
    users, values = world
    failures = []
    for role in ROLES:
        client = app.test_client()
        if role:
            login(client, users[role])
        for rule, view in _views(app):
            if rule.endpoint == "auth.logout":
                continue
            method = "GET" if "GET" in rule.methods else "POST"
            url = _url(rule, values)
            response = client.open(url, method=method)
            status = response.status_code
            public = getattr(view, "is_public", False)
            required = getattr(view, "required_roles", ())
            if status >= 500:
                failures.append(f"{role} {method} {url}: {status}")
            elif role is None and not public:
                if not (status == 302 and "/auth/sign-in" in response.headers.get("Location", "")):
                    failures.append(
                        f"anonymous {method} {url}: {status}, expected a redirect to sign in"
                    )
            elif (
                role and required and role != Role.ADMIN and role not in required and status != 403
            ):
                failures.append(f"{role} {method} {url}: {status}, expected 403")
    assert failures == []


def test_two_factor_set_up_comes_before_every_view(app, world):
    """A manager without two-step sign-in reaches only its set-up, sign-out and static files."""
    from app.security import TWO_FACTOR_SETUP_ENDPOINTS

    _users, values = world
    manager = create_user(Role.MANAGER, two_factor=False)
    client = app.test_client()
    login(client, manager)
    failures = []
    for rule, _view in _views(app):
        if rule.endpoint in TWO_FACTOR_SETUP_ENDPOINTS:
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        url = _url(rule, values)
        response = client.open(url, method=method)
        if response.status_code != 302 or not response.headers["Location"].endswith(
            "/auth/two-factor/setup"
        ):
            failures.append(f"{method} {url}: {response.status_code}")
    assert failures == []
    assert client.get("/auth/two-factor/setup").status_code == 200


def test_personal_data_of_someone_else_is_for_administrators(app, world):
    """Privacy routes: the matrix uses fmt=csv (a 404); here the real formats, per role."""
    users, values = world
    person_id = values["person_id"]
    expected = {None: 302, Role.LEARNER: 403, Role.TRAINER: 403, Role.MANAGER: 403}
    for role in ROLES:
        client = app.test_client()
        if role:
            login(client, users[role])
        for url in (f"/people/{person_id}/data.json", f"/people/{person_id}/erase"):
            assert client.get(url).status_code == expected.get(role, 200), (role, url)
        # Everyone signed in gets their own data, and only theirs: no id in the address.
        own = client.get("/my-data/download.json")
        assert own.status_code == (302 if role is None else 200), role

"""Roll-call pages, walk-ins, QR check-in and the service worker: status, permissions, effects."""

import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.attendance import services
from app.attendance.models import Attendance, AttendanceMark, AttendanceStatus, Channel
from app.auth.models import User
from app.auth.roles import Role
from app.courses.models import CourseRun, CourseRunTrainer
from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
from app.enrollment.services import enrol
from app.extensions import db
from app.people.models import Person
from app.programmes.services import add_participant
from app.timeutil import utcnow
from tests.attendance.helpers import MANAGER, NOON, add_session, run_with_learners
from tests.conftest import create_person, create_programme, create_user, login
from tests.query_counter import count_queries


@dataclass
class World:
    run: CourseRun
    session: object
    learners: list[Person]
    trainer: User
    manager: User


def teaching_world(n=3, starts_at=NOON, **run_values) -> World:
    """A run with n enrolled learners, one session, its trainer and its programme's manager."""
    run, learners = run_with_learners(n, **run_values)
    session = add_session(run, starts_at)
    trainer = create_user(
        Role.TRAINER, programme=run.programme, first_name="Jelena", last_name="Đorđević"
    )
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    manager = create_user(Role.MANAGER, programme=run.programme)
    db.session.commit()
    return World(run, session, learners, trainer, manager)


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def mark(world, person, status="present", at=NOON, client_id=None, by=None):
    result = services.record_mark(
        session=world.session,
        person_id=person.id,
        status=AttendanceStatus(status),
        remark=None,
        marked_at=at,
        by=by or world.trainer,
        channel=Channel.ROLL_CALL,
        client_id=client_id,
        now=at,
    )
    db.session.commit()
    return result


def statuses():
    db.session.rollback()
    return dict(db.session.execute(sa.select(Attendance.person_id, Attendance.status)).all())


# Roll-call page ------------------------------------------------------------------------


def test_rollcall_shows_roster_by_last_name_with_marks_and_who_made_them(app):
    world = teaching_world(0)
    for last in ("Zeqiri", "Berisha", "Morina"):
        person = create_person(last_name=last, first_name="Ana")
        enrol(run=world.run, person=person, by=None, now=NOON - timedelta(days=9), source=MANAGER)
    db.session.commit()
    morina = db.session.scalar(sa.select(Person).where(Person.last_name == "Morina"))
    mark(world, morina, "late")
    page = signed_in(app, world.trainer).get(f"/sessions/{world.session.id}/roll-call")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("Berisha, Ana") < html.index("Morina, Ana") < html.index("Zeqiri, Ana")
    assert "Jelena Đorđević" in html and 'aria-pressed="true"' in html
    assert "Prishtinë" in html  # the learner's municipality
    assert 'id="rollcall-config"' in html and "X-CSRFToken" not in html
    assert "<script>" not in html  # CSP: no inline script, only the JSON data block


@pytest.mark.parametrize(
    "who, expected",
    [
        ("trainer", 200),
        ("manager", 200),
        ("admin", 200),
        ("other_trainer", 403),
        ("other_manager", 403),
        ("learner", 403),
    ],
)
def test_rollcall_permissions(app, who, expected):
    world = teaching_world()
    users = {
        "trainer": world.trainer,
        "manager": world.manager,
        "admin": create_user(Role.ADMIN),
        # a trainer of the same programme who does not teach this run
        "other_trainer": create_user(Role.TRAINER, programme=world.run.programme),
        "other_manager": create_user(Role.MANAGER, programme=create_programme()),
        "learner": world.learners[0] and create_user(Role.LEARNER),
    }
    client = signed_in(app, users[who])
    sid = world.session.id
    assert client.get(f"/sessions/{sid}/roll-call").status_code == expected
    assert client.get(f"/api/sessions/{sid}/marks").status_code == expected
    assert client.get(f"/sessions/{sid}/qr").status_code == expected
    assert client.get(f"/api/sessions/{sid}/qr").status_code == expected
    response = client.post(
        f"/sessions/{sid}/roll-call/mark",
        data={"person_id": world.learners[0].id, "status": "present"},
    )
    assert response.status_code == (302 if expected == 200 else 403)
    assert len(statuses()) == (1 if expected == 200 else 0)


def test_rollcall_of_a_missing_session_is_404_and_anonymous_is_sent_to_sign_in(app, client):
    world = teaching_world()
    response = client.get(f"/sessions/{world.session.id}/roll-call")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
    assert signed_in(app, world.trainer).get("/sessions/999999/roll-call").status_code == 404


def test_rollcall_queries_do_not_grow_with_the_roster(app):
    counts = []
    for n in (5, 40):
        world = teaching_world(n, capacity=n)
        other = create_user(Role.TRAINER, programme=world.run.programme)
        db.session.add(CourseRunTrainer(run_id=world.run.id, user_id=other.id))
        db.session.commit()
        for i, person in enumerate(world.learners):
            if i % 2:
                mark(world, person, "present", by=world.trainer if i % 4 == 1 else other)
        client = signed_in(app, world.trainer)
        client.get(f"/sessions/{world.session.id}/roll-call")  # warm caches
        with count_queries() as counter:
            response = client.get(f"/sessions/{world.session.id}/roll-call")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="rollcall-row"') == n
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# The no-JavaScript path ----------------------------------------------------------------


def test_no_js_mark_form_records_once_and_returns_to_the_row(app):
    world = teaching_world()
    client = signed_in(app, world.trainer)
    person = world.learners[1]
    form = {"person_id": person.id, "status": "late", "remark": "Bus", "client_id": "a" * 32}
    response = client.post(f"/sessions/{world.session.id}/roll-call/mark", data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/roll-call#person-{person.id}")
    # The same form sent twice (a double tap, a resubmitted page) is one mark.
    client.post(f"/sessions/{world.session.id}/roll-call/mark", data=form)
    assert statuses() == {person.id: AttendanceStatus.LATE}
    assert db.session.scalar(sa.select(sa.func.count(AttendanceMark.id))) == 1
    row = db.session.scalar(sa.select(Attendance))
    assert (row.remark, row.channel, row.marked_by_id) == (
        "Bus",
        Channel.ROLL_CALL,
        world.trainer.id,
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved: Late." in page


def test_no_js_mark_form_refuses_bad_status_and_strangers(app):
    world = teaching_world()
    client = signed_in(app, world.trainer)
    url = f"/sessions/{world.session.id}/roll-call/mark"
    page = client.post(url, data={"person_id": world.learners[0].id, "status": "asleep"})
    assert page.status_code == 302
    assert "Press present, late, excused or absent" in client.get(
        page.headers["Location"]
    ).get_data(as_text=True)
    stranger = create_person()
    response = client.post(url, data={"person_id": stranger.id, "status": "present"})
    assert "not enrolled" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert statuses() == {}


def test_no_js_all_present_marks_only_the_unmarked(app):
    world = teaching_world(3)
    a, b, c = world.learners
    mark(world, a, "excused")
    client = signed_in(app, world.trainer)
    response = client.post(f"/sessions/{world.session.id}/roll-call/all-present")
    assert response.status_code == 302
    assert statuses() == {
        a.id: AttendanceStatus.EXCUSED,
        b.id: AttendanceStatus.PRESENT,
        c.id: AttendanceStatus.PRESENT,
    }
    assert "Marked present: 2" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_cancelled_session_refuses_marks(app):
    world = teaching_world()
    services.cancel_session(session=world.session, message="Cancelled")
    db.session.commit()
    client = signed_in(app, world.trainer)
    page = client.get(f"/sessions/{world.session.id}/roll-call").get_data(as_text=True)
    assert "This session is cancelled" in page
    client.post(
        f"/sessions/{world.session.id}/roll-call/mark",
        data={"person_id": world.learners[0].id, "status": "present"},
    )
    assert statuses() == {}


# Session state API ---------------------------------------------------------------------


def test_session_state_lists_current_marks(app):
    world = teaching_world()
    mark(world, world.learners[0], "absent")
    data = signed_in(app, world.trainer).get(f"/api/sessions/{world.session.id}/marks").get_json()
    assert data["session_id"] == world.session.id
    (only,) = data["marks"]
    assert only["person_id"] == world.learners[0].id and only["status"] == "absent"
    assert only["marked_by"] == "Jelena Đorđević" and only["marked_at"].endswith("Z")


# Walk-ins ------------------------------------------------------------------------------


def test_walk_in_search_needs_two_letters_and_stays_in_the_programme(app):
    world = teaching_world()
    insider = create_person(first_name="Teuta", last_name="Rexhepi")
    add_participant(programme_id=world.run.programme_id, person=insider)
    outsider = create_person(first_name="Teuta", last_name="Rexhaj")
    db.session.commit()
    url = f"/sessions/{world.session.id}/walk-ins/search"
    trainer = signed_in(app, world.trainer)
    assert trainer.get(url + "?q=t").get_json()["people"] == []
    found = trainer.get(url + "?q=teuta").get_json()["people"]
    assert found == [
        {"id": insider.id, "name": "Teuta Rexhepi", "municipality": "Prishtinë/Priština"}
    ]
    # Administrators search everyone; people already on the roster are not offered.
    admin = signed_in(app, create_user(Role.ADMIN))
    ids = {p["id"] for p in admin.get(url + "?q=teuta").get_json()["people"]}
    assert ids == {insider.id, outsider.id}
    enrolled_name = world.learners[0].last_name
    assert admin.get(url + f"?q={enrolled_name}").get_json()["people"] == []


def test_no_js_walk_in_search_renders_results_on_the_page(app):
    world = teaching_world()
    person = create_person(first_name="Drilon", last_name="Gashi")
    add_participant(programme_id=world.run.programme_id, person=person)
    db.session.commit()
    client = signed_in(app, world.trainer)
    page = client.get(f"/sessions/{world.session.id}/roll-call?q=drilon").get_data(as_text=True)
    assert "Drilon Gashi" in page and "Add to the roster" in page


def test_add_walk_in_enrols_on_the_spot(app):
    world = teaching_world(1, capacity=1)  # full: walk-ins come in anyway
    person = create_person(first_name="Drilon", last_name="Gashi")
    add_participant(programme_id=world.run.programme_id, person=person)
    db.session.commit()
    client = signed_in(app, world.trainer)
    response = client.post(f"/sessions/{world.session.id}/walk-ins", data={"person_id": person.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"#person-{person.id}"
    )
    db.session.rollback()
    enrollment = db.session.scalar(sa.select(Enrollment).where(Enrollment.person_id == person.id))
    assert (enrollment.status, enrollment.source) == (
        EnrollmentStatus.ENROLLED,
        EnrollmentSource.WALK_IN,
    )
    page = client.get(f"/sessions/{world.session.id}/roll-call").get_data(as_text=True)
    assert "Gashi, Drilon" in page and "walk-in" in page


@pytest.mark.parametrize("person_id", ["9223372036854775808", "-1", "0"])
def test_walk_in_and_mark_refuse_ids_no_row_can_have(app, person_id):
    """Found by tests/fuzz: an id past the integer column overflowed the driver (a 500)."""
    world = teaching_world(1)
    client = signed_in(app, world.trainer)
    url = f"/sessions/{world.session.id}"
    assert client.post(f"{url}/walk-ins", data={"person_id": person_id}).status_code == 404
    response = client.post(
        f"{url}/roll-call/mark", data={"person_id": person_id, "status": "present"}
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 0


def test_trainer_cannot_add_someone_outside_their_programme(app):
    world = teaching_world()
    outsider = create_person()
    client = signed_in(app, world.trainer)
    response = client.post(
        f"/sessions/{world.session.id}/walk-ins", data={"person_id": outsider.id}
    )
    assert response.status_code == 404
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(Enrollment).where(Enrollment.person_id == outsider.id)) is None
    )


def test_new_walk_in_is_created_with_minimum_fields_for_review(app):
    world = teaching_world()
    client = signed_in(app, world.trainer)
    url = f"/sessions/{world.session.id}/walk-ins/new"
    missing = client.post(url, data={"first_name": "Besa", "last_name": "Kelmendi"})
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert "Choose one." in html and 'value="Kelmendi"' in html  # the input is kept
    response = client.post(
        url, data={"first_name": "Besa", "last_name": "Kelmendi", "sex": "female"}
    )
    assert response.status_code == 302
    db.session.rollback()
    person = db.session.scalar(sa.select(Person).where(Person.last_name == "Kelmendi"))
    assert person.needs_review and person.sex == "female"
    assert person.id in services.enrolled_person_ids(world.run.id)


# QR check-in ---------------------------------------------------------------------------


def live_session_world(minutes_ago=5):
    """A session that started a few minutes ago, and an enrolled learner with an account."""
    world = teaching_world(
        1, starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=minutes_ago)
    )
    learner = create_user(Role.LEARNER, first_name="Vjosa", last_name="Krasniqi")
    enrol(
        run=world.run,
        person=learner.person,
        by=None,
        now=utcnow() - timedelta(days=3),
        source=MANAGER,
    )
    db.session.commit()
    return world, learner


def check_in_url(world):
    return f"/check-in/{world.session.id}/{services.qr_token(world.session, utcnow())}"


def confirm(client, url):
    page = client.get(url)
    assert page.status_code == 200
    ticket = re.search(r'name="ticket" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    return client.post(url, data={"ticket": ticket.group(1) if ticket else ""})


def test_qr_screen_shows_a_code_and_the_live_count(app):
    world, learner = live_session_world()
    trainer = signed_in(app, world.trainer)
    page = trainer.get(f"/sessions/{world.session.id}/qr").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and "checkin.js" in page
    before = trainer.get(f"/api/sessions/{world.session.id}/qr").get_json()
    assert before["checked_in"] == 0 and before["enrolled"] == 2
    assert f"/check-in/{world.session.id}/" in before["url"]
    confirm(signed_in(app, learner), check_in_url(world))
    after = trainer.get(f"/api/sessions/{world.session.id}/qr").get_json()
    assert after["checked_in"] == 1 and after["recent"] == ["Vjosa K."]


def test_check_in_get_changes_nothing_and_post_marks_present(app):
    world, learner = live_session_world()
    client = signed_in(app, learner)
    url = check_in_url(world)
    page = client.get(url)
    assert page.status_code == 200 and "I am here" in page.get_data(as_text=True)
    assert statuses() == {}
    response = confirm(client, url)
    assert response.status_code == 200
    assert "You are checked in: Present" in response.get_data(as_text=True)
    row = db.session.scalar(sa.select(Attendance))
    assert (row.person_id, row.status, row.channel) == (learner.person.id, "present", Channel.QR)


def test_check_in_after_the_late_threshold_marks_late(app):
    world, learner = live_session_world(minutes_ago=20)
    response = confirm(signed_in(app, learner), check_in_url(world))
    assert "You are checked in: Late" in response.get_data(as_text=True)


def test_late_threshold_comes_from_the_settings(app):
    world, learner = live_session_world(minutes_ago=5)
    app.config["QR_LATE_AFTER_MINUTES"] = 2
    try:
        response = confirm(signed_in(app, learner), check_in_url(world))
    finally:
        del app.config["QR_LATE_AFTER_MINUTES"]
    assert "You are checked in: Late" in response.get_data(as_text=True)


def test_second_scan_is_refused_without_change(app):
    world, learner = live_session_world()
    client = signed_in(app, learner)
    confirm(client, check_in_url(world))
    again = confirm(client, check_in_url(world))
    assert again.status_code == 409
    assert "already checked in" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AttendanceMark.id))) == 1


def test_check_in_refusals_are_clear(app):
    world, learner = live_session_world()
    stale = f"/check-in/{world.session.id}/{services.qr_token(world.session, utcnow() - timedelta(minutes=5))}"
    page = signed_in(app, learner).get(stale).get_data(as_text=True)
    assert "This code has expired" in page and "I am here" not in page
    stranger = signed_in(app, create_user(Role.LEARNER))
    refused = confirm(stranger, check_in_url(world))
    assert refused.status_code == 409 and "not enrolled" in refused.get_data(as_text=True)
    # A forged or foreign confirmation ticket is refused too.
    forged = signed_in(app, learner).post(check_in_url(world), data={"ticket": "forged"})
    assert forged.status_code == 409 and "expired" in forged.get_data(as_text=True)
    assert statuses() == {}


def test_check_in_before_the_session_starts_is_refused(app):
    world, learner = live_session_world(minutes_ago=-120)  # starts in two hours
    refused = confirm(signed_in(app, learner), check_in_url(world))
    assert refused.status_code == 409 and "not started" in refused.get_data(as_text=True)


def test_anonymous_check_in_goes_to_sign_in_and_back(app, client):
    world, learner = live_session_world()
    url = check_in_url(world)
    response = client.get(url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/auth/sign-in" in location and "next=" in location
    from tests.conftest import PASSWORD

    back = client.post(location, data={"email": learner.person.email, "password": PASSWORD})
    assert back.status_code == 302 and back.headers["Location"] == url


# Installable app -----------------------------------------------------------------------


def test_service_worker_is_served_from_the_root_with_its_headers(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert body.startswith("self.AKADEMIA = {") and "/static/js/rollcall.js" in body
    assert (
        client.get("/sw.js", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    )
    # Every file of the app shell exists: one missing file and the worker never installs.
    settings = json.loads(body.split("\n", 1)[0].removeprefix("self.AKADEMIA = ").rstrip(";"))
    assert len(settings["shell"]) >= 5
    for url in settings["shell"]:
        assert client.get(url).status_code == 200, url


def test_manifest_is_linked_and_installable(client):
    page = client.get("/courses").get_data(as_text=True)
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
    manifest = client.get("/static/manifest.webmanifest").get_json(force=True)
    assert manifest["name"] == "Akademia" and manifest["start_url"] == "/teaching"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_busy_database_answers_503_with_retry_after(app, monkeypatch):
    from app.attendance import sync

    def locked(**_kwargs):
        raise sa.exc.OperationalError("INSERT …", {}, Exception("database is locked"))

    world = teaching_world()
    client = signed_in(app, world.trainer)
    monkeypatch.setattr(sync, "apply_marks", locked)
    response = client.post("/api/attendance/marks", json={"marks": []})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["retry"] is True
    assert "locked" not in response.get_data(as_text=True)

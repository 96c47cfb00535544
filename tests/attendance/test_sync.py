"""The sync API: idempotent replays, per-mark errors, conflicts, CSRF."""

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.attendance.models import Attendance, AttendanceMark, AttendanceStatus, Channel
from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.extensions import db
from app.timeutil import utcnow
from tests.attendance.helpers import add_session
from tests.attendance.test_routes import signed_in, statuses, teaching_world
from tests.conftest import create_person, create_run, create_user

URL = "/api/attendance/marks"
# Device times in the past: the server counts a time from the future as "now".
T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)


def new_mark(world, person, status="present", at=T0, **extra):
    return {
        "client_id": str(uuid.uuid4()),
        "session_id": world.session.id,
        "person_id": person.id,
        "status": status,
        "remark": "",
        "marked_at": at.isoformat() + "Z",
        **extra,
    }


def counts():
    db.session.rollback()
    return (
        db.session.scalar(sa.select(sa.func.count(Attendance.id))),
        db.session.scalar(sa.select(sa.func.count(AttendanceMark.id))),
    )


def test_marks_are_recorded_and_acknowledged(app):
    world = teaching_world(3)
    client = signed_in(app, world.trainer)
    marks = [
        new_mark(world, p, s)
        for p, s in zip(world.learners, ("present", "late", "absent"), strict=True)
    ]
    response = client.post(URL, json={"marks": marks})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["client_id"] for r in results] == [m["client_id"] for m in marks]
    assert all(r["ok"] and r["applied"] and not r["duplicate"] for r in results)
    assert results[0]["marked_by"] == "Jelena Đorđević"
    assert results[0]["session_id"] == world.session.id
    assert statuses() == {
        world.learners[0].id: AttendanceStatus.PRESENT,
        world.learners[1].id: AttendanceStatus.LATE,
        world.learners[2].id: AttendanceStatus.ABSENT,
    }


def test_replays_and_double_submissions_never_duplicate(app):
    world = teaching_world(3)
    client = signed_in(app, world.trainer)
    marks = [new_mark(world, p) for p in world.learners]
    first = client.post(URL, json={"marks": marks}).get_json()["results"]
    # The answer was lost on the way back: the outbox sends the same marks again, twice,
    # and once more inside a larger batch with the same mark repeated.
    again = client.post(URL, json={"marks": marks}).get_json()["results"]
    client.post(URL, json={"marks": marks})
    client.post(URL, json={"marks": marks + marks})
    assert all(r["ok"] and not r["duplicate"] for r in first)
    assert all(r["ok"] and r["duplicate"] and r["applied"] for r in again)
    assert counts() == (3, 3)


def test_one_bad_mark_does_not_cost_the_others(app):
    world = teaching_world(2)
    client = signed_in(app, world.trainer)
    good = [new_mark(world, p) for p in world.learners]
    bad = [
        new_mark(world, world.learners[0], status="asleep"),
        new_mark(world, create_person()),  # not enrolled
        {**new_mark(world, world.learners[0]), "client_id": "x"},
        {**new_mark(world, world.learners[0]), "session_id": 999999},
        {**new_mark(world, world.learners[0]), "person_id": "seven"},
        {**new_mark(world, world.learners[0]), "marked_at": "yesterday"},
        {**new_mark(world, world.learners[0]), "channel": "qr"},
        {**new_mark(world, world.learners[0]), "remark": ["not", "text"]},
        "not an object",
        None,
    ]
    marks = [bad[0], good[0], *bad[1:], good[1]]
    response = client.post(URL, json={"marks": marks})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert len(results) == len(marks)
    assert results[1]["ok"] and results[-1]["ok"]
    errors = [r for r in results if not r["ok"]]
    assert len(errors) == len(bad)
    assert {r["error"] for r in errors} == {"invalid", "refused", "not_found"}
    assert all(r["message"] for r in errors)
    assert "not enrolled" in results[2]["message"]
    assert counts() == (2, 2)


def test_conflicts_are_reported_with_the_mark_that_stands(app):
    world = teaching_world(1)
    (person,) = world.learners
    colleague = create_user(Role.TRAINER, programme=world.run.programme, first_name="Arben")
    db.session.add(CourseRunTrainer(run_id=world.run.id, user_id=colleague.id))
    db.session.commit()
    later = new_mark(world, person, "present", at=T0 + timedelta(minutes=2))
    signed_in(app, colleague).post(URL, json={"marks": [later]})
    # Jelena marked absent earlier on her phone while offline; it arrives afterwards.
    earlier = new_mark(world, person, "absent", at=T0, channel="offline_sync")
    (result,) = (
        signed_in(app, world.trainer).post(URL, json={"marks": [earlier]}).get_json()["results"]
    )
    assert result["ok"] and not result["applied"] and not result["duplicate"]
    assert result["status"] == "present" and result["marked_by"].startswith("Arben ")
    assert result["marked_at"] == (T0 + timedelta(minutes=2)).isoformat() + "Z"
    assert statuses() == {person.id: AttendanceStatus.PRESENT}
    lost = db.session.scalar(
        sa.select(AttendanceMark).where(AttendanceMark.client_id == earlier["client_id"])
    )
    assert lost.applied is False and lost.channel == Channel.OFFLINE_SYNC


def test_marks_of_one_person_in_a_batch_apply_by_device_time(app):
    world = teaching_world(1)
    (person,) = world.learners
    taps = [
        new_mark(world, person, "late", at=T0 + timedelta(minutes=3)),
        new_mark(world, person, "absent", at=T0),
        new_mark(world, person, "present", at=T0 + timedelta(minutes=1)),
    ]
    results = signed_in(app, world.trainer).post(URL, json={"marks": taps}).get_json()["results"]
    assert [r["applied"] for r in results] == [True, True, True]  # oldest first, each then newest
    assert statuses() == {person.id: AttendanceStatus.LATE}
    assert counts() == (1, 3)


def test_device_times_with_offsets_are_stored_in_utc(app):
    world = teaching_world(1)
    mark = new_mark(world, world.learners[0])
    mark["marked_at"] = "2026-11-02T12:05:00+01:00"  # Europe/Belgrade in winter
    signed_in(app, world.trainer).post(URL, json={"marks": [mark]})
    db.session.rollback()
    assert str(db.session.scalar(sa.select(Attendance.marked_at))) == "2026-11-02 11:05:00"


def test_channel_says_how_the_mark_travelled(app):
    world = teaching_world(2)
    a, b = world.learners
    marks = [new_mark(world, a), new_mark(world, b, channel="offline_sync")]
    signed_in(app, world.trainer).post(URL, json={"marks": marks})
    db.session.rollback()
    channels = dict(db.session.execute(sa.select(Attendance.person_id, Attendance.channel)).all())
    assert channels == {a.id: Channel.ROLL_CALL, b.id: Channel.OFFLINE_SYNC}


def test_trainer_marks_only_sessions_of_runs_they_teach(app):
    world = teaching_world(1)
    other_run = create_run(world.run.programme, capacity=5)
    from app.enrollment.services import enrol

    stranger = create_person()
    enrol(run=other_run, person=stranger, by=None)
    db.session.commit()
    other_session = add_session(other_run)
    allowed = new_mark(world, world.learners[0])
    foreign = {**new_mark(world, stranger), "session_id": other_session.id}
    results = signed_in(app, world.trainer).post(URL, json={"marks": [foreign, allowed]}).get_json()
    assert [r["ok"] for r in results["results"]] == [False, True]
    assert results["results"][0]["error"] == "forbidden"
    assert counts() == (1, 1)


@pytest.mark.parametrize("role", [Role.LEARNER, None])
def test_learners_and_anonymous_cannot_use_the_api(app, client, role):
    world = teaching_world(1)
    if role:
        client = signed_in(app, create_user(role))
    response = client.post(URL, json={"marks": [new_mark(world, world.learners[0])]})
    assert response.status_code == (403 if role else 302)
    assert counts() == (0, 0)


def test_manager_of_another_programme_is_refused_per_mark(app):
    world = teaching_world(1)
    from tests.conftest import create_programme

    stranger = create_user(Role.MANAGER, programme=create_programme())
    results = signed_in(app, stranger).post(
        URL, json={"marks": [new_mark(world, world.learners[0])]}
    )
    assert results.get_json()["results"][0]["error"] == "forbidden"
    assert counts() == (0, 0)


def test_malformed_requests_get_a_json_error(app):
    world = teaching_world(1)
    client = signed_in(app, world.trainer)
    assert client.post(URL, data="not json", content_type="application/json").status_code == 400
    assert client.post(URL, json={"marks": "many"}).status_code == 400
    assert client.post(URL, json=[1, 2]).status_code == 400
    too_many = client.post(URL, json={"marks": [{}] * 501})
    assert too_many.status_code == 413 and too_many.get_json()["error"] == "too_many"
    assert client.post(URL, json={"marks": []}).get_json() == {"results": []}


def test_marks_with_impossible_times_or_ids_are_refused_one_by_one(app):
    """Found by tests/fuzz: a time with no UTC equivalent and ids past the integer column
    crashed the whole batch (a 500)."""
    world = teaching_world(1)
    client = signed_in(app, world.trainer)
    learner = world.learners[0]
    bad = [
        {**new_mark(world, learner), "marked_at": "0001-01-01T00:00+14:00"},
        {**new_mark(world, learner), "marked_at": "9999-12-31T23:59-14:00"},
        {**new_mark(world, learner), "person_id": 2**70},
        {**new_mark(world, learner), "session_id": 2**63},
        {**new_mark(world, learner), "channel": ["qr"]},
        {**new_mark(world, learner), "status": {"present": True}},
    ]
    good = {**new_mark(world, learner), "remark": "came\x00 late"}
    response = client.post(URL, json={"marks": [*bad, good]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["ok"] for r in results] == [False] * len(bad) + [True]
    assert all(r["message"] for r in results[:-1])
    assert counts() == (1, 1)
    assert db.session.scalar(sa.select(Attendance.remark)) == "came late"


def test_csrf_header_is_required_when_csrf_is_on(app):
    world = teaching_world(1)
    client = signed_in(app, world.trainer)
    mark = new_mark(world, world.learners[0])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(URL, json={"marks": [mark]}, headers={"Accept": "application/json"})
        assert refused.status_code == 400
        page = client.get(f"/sessions/{world.session.id}/roll-call").get_data(as_text=True)
        token = re.search(r'"csrf": "([^"]+)"', page).group(1)
        accepted = client.post(URL, json={"marks": [mark]}, headers={"X-CSRFToken": token})
        assert accepted.status_code == 200 and accepted.get_json()["results"][0]["ok"]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert counts() == (1, 1)


def test_a_client_id_reused_for_another_person_is_refused_not_a_crash(app):
    world = teaching_world(3)
    a, b, c = world.learners
    client = signed_in(app, world.trainer)
    first = new_mark(world, a)
    client.post(URL, json={"marks": [first]})
    reused = {**new_mark(world, b), "client_id": first["client_id"]}
    (alone,) = client.post(URL, json={"marks": [reused]}).get_json()["results"]
    assert not alone["ok"] and alone["error"] == "refused"
    batch = client.post(URL, json={"marks": [reused, new_mark(world, c)]}).get_json()["results"]
    assert [r["ok"] for r in batch] == [False, True]
    assert statuses() == {a.id: AttendanceStatus.PRESENT, c.id: AttendanceStatus.PRESENT}


def test_a_mark_opens_one_transaction(app):
    """On SQLite each transaction of a POST waits for the write lock: one per mark, not two."""
    world = teaching_world(1)
    client = signed_in(app, world.trainer)
    client.post(URL, json={"marks": [new_mark(world, world.learners[0])]})  # warm up
    db.session.rollback()
    begins = []
    listener = lambda *_args: begins.append(1)  # noqa: E731
    sa.event.listen(db.engine, "begin", listener)
    try:
        mark = new_mark(world, world.learners[0], "late", at=T0 + timedelta(minutes=1))
        assert client.post(URL, json={"marks": [mark]}).get_json()["results"][0]["applied"]
    finally:
        sa.event.remove(db.engine, "begin", listener)
    assert len(begins) == 1

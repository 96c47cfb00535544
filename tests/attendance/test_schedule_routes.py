from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.attendance.models import CourseSession, Notification, SessionStatus
from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.enrollment.services import enrol
from app.extensions import db
from tests.attendance.helpers import MANAGER, NOON, add_session, run_with_learners
from tests.conftest import create_programme, create_run, create_user, login
from tests.query_counter import count_queries


def _teacher(run):
    trainer = create_user(Role.TRAINER, programme=run.programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    return trainer


def _form(run, **values):
    data = {
        "day": "2026-12-02",
        "starts": "10:00",
        "ends": "12:00",
        "venue": "Salla e Kuvendit",
        "municipality_id": run.municipality_id,
        "trainer_id": 0,
        "repeat": "once",
        "every_days": "",
        "count": 1,
    }
    data.update(values)
    return data


def _sessions(run):
    return db.session.scalars(
        sa.select(CourseSession).where(CourseSession.run_id == run.id).order_by("starts_at")
    ).all()


def _urls(run, session):
    return [
        ("get", f"/runs/{run.id}/sessions"),
        ("get", f"/runs/{run.id}/sessions/new"),
        ("post", f"/runs/{run.id}/sessions/new"),
        ("get", f"/sessions/{session.id}/move"),
        ("post", f"/sessions/{session.id}/move"),
        ("get", f"/sessions/{session.id}/cancel"),
        ("post", f"/sessions/{session.id}/cancel"),
    ]


@pytest.mark.parametrize("who", ["trainer_of_another_run", "learner", "manager_elsewhere"])
def test_scheduling_refuses_those_without_the_run(client, who):
    run, _ = run_with_learners(1)
    session = add_session(run)
    _teacher(run)
    if who == "trainer_of_another_run":
        user = _teacher(create_run(run.programme))
    elif who == "learner":
        user = create_user(Role.LEARNER)
        enrol(run=run, person=user.person, by=None, now=NOON - timedelta(days=30), source=MANAGER)
        db.session.commit()
    else:
        user = create_user(Role.MANAGER, programme=create_programme())
    login(client, user)
    for method, url in _urls(run, session):
        response = getattr(client, method)(url, data=_form(run, reason="x"))
        assert response.status_code == 403, (who, method, url)
    assert session.status == SessionStatus.SCHEDULED and len(_sessions(run)) == 1


def test_missing_session_is_404(client):
    run, _ = run_with_learners(0)
    login(client, _teacher(run))
    assert client.get("/sessions/999999/move").status_code == 404
    assert client.get("/runs/999999/sessions").status_code == 404


def test_trainer_schedules_one_session_in_belgrade_time(client):
    run, _ = run_with_learners(0)
    trainer = _teacher(run)
    login(client, trainer)
    form = client.get(f"/runs/{run.id}/sessions/new").get_data(as_text=True)
    assert 'value="Municipal hall"' in form  # the run's venue is the default
    response = client.post(f"/runs/{run.id}/sessions/new", data=_form(run, trainer_id=trainer.id))
    assert response.status_code == 302
    (session,) = _sessions(run)
    # 10:00 in Belgrade in December (CET, UTC+1) is 09:00 UTC.
    assert session.starts_at == datetime(2026, 12, 2, 9, 0)
    assert session.ends_at == datetime(2026, 12, 2, 11, 0)
    assert session.trainer_id == trainer.id and session.venue == "Salla e Kuvendit"


def test_weekly_series_keeps_the_local_hour_across_the_end_of_summer_time(client):
    run, _ = run_with_learners(0)
    login(client, create_user(Role.MANAGER, programme=run.programme))
    data = _form(run, day="2026-10-20", repeat="weekly", count=3)
    assert client.post(f"/runs/{run.id}/sessions/new", data=data).status_code == 302
    sessions = _sessions(run)
    assert [s.starts_at for s in sessions] == [
        datetime(2026, 10, 20, 8, 0),  # CEST, UTC+2
        datetime(2026, 10, 27, 9, 0),  # CET, UTC+1: still 10:00 in Belgrade
        datetime(2026, 11, 3, 9, 0),
    ]
    assert len({s.series_key for s in sessions}) == 1


def test_series_form_errors_keep_the_input(client):
    run, _ = run_with_learners(0)
    login(client, _teacher(run))
    data = _form(run, venue="Salla e vogël", repeat="weekly", count=4, starts="12:00", ends="11:00")
    response = client.post(f"/runs/{run.id}/sessions/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A session must end after it starts." in page
    assert 'value="Salla e vogël"' in page and 'value="4"' in page
    assert '<option selected value="weekly">' in page
    # "Every few days" needs the number of days.
    page = client.post(
        f"/runs/{run.id}/sessions/new", data=_form(run, repeat="custom", count=3)
    ).get_data(as_text=True)
    assert "Repeat every 1 to 31 days." in page
    # A single session cannot have a count.
    page = client.post(
        f"/runs/{run.id}/sessions/new", data=_form(run, repeat="once", count=3)
    ).get_data(as_text=True)
    assert "Choose how often the sessions repeat" in page
    page = client.post(
        f"/runs/{run.id}/sessions/new", data=_form(run, repeat="daily", count=61)
    ).get_data(as_text=True)
    assert 'value="61"' in page
    assert _sessions(run) == []


def test_move_notifies_learners_and_raises_the_sequence(client):
    run, people = run_with_learners(3)
    session = add_session(run)
    login(client, _teacher(run))
    form = client.get(f"/sessions/{session.id}/move").get_data(as_text=True)
    assert 'value="12:00"' in form  # 11:00 UTC shown as 12:00 in Belgrade
    data = _form(run, day="2026-12-03", starts="14:00", ends="16:00", venue="Biblioteka")
    data["message"] = "Bring your laptop."
    response = client.post(f"/sessions/{session.id}/move", data=data)
    assert response.status_code == 302
    db.session.refresh(session)
    assert session.sequence == 1 and session.starts_at == datetime(2026, 12, 3, 13, 0)
    notes = db.session.scalars(sa.select(Notification)).all()
    assert sorted(n.person_id for n in notes) == sorted(p.id for p in people)
    assert all(n.link == f"/runs/{run.id}" for n in notes)
    assert "Biblioteka" in notes[0].message and "Bring your laptop." in notes[0].message
    assert "2:00" in notes[0].message and "12:00" in notes[0].message  # local times


def test_move_error_keeps_input_and_notifies_nobody(client):
    run, _ = run_with_learners(2)
    session = add_session(run)
    login(client, _teacher(run))
    data = _form(run, day="2030-01-01", venue="Diku tjetër")
    response = client.post(f"/sessions/{session.id}/move", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "within the programme" in page
    assert 'value="Diku tjetër"' in page
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_cancel_notifies_learners_and_keeps_the_session_listed(client):
    run, people = run_with_learners(2)
    session = add_session(run)
    login(client, create_user(Role.MANAGER, programme=run.programme))
    assert client.post(f"/sessions/{session.id}/cancel", data={"reason": ""}).status_code == 200
    response = client.post(f"/sessions/{session.id}/cancel", data={"reason": "The hall is closed."})
    assert response.status_code == 302
    db.session.refresh(session)
    assert session.status == SessionStatus.CANCELLED and session.sequence == 1
    notes = db.session.scalars(sa.select(Notification)).all()
    assert len(notes) == 2 and "The hall is closed." in notes[0].message
    page = client.get(f"/runs/{run.id}/sessions").get_data(as_text=True)
    assert "Cancelled" in page and "<s>" in page
    again = client.post(f"/sessions/{session.id}/cancel", data={"reason": "Again"})
    assert "already cancelled" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2


def test_sessions_page_queries_do_not_grow(client):
    run, _ = run_with_learners(0)
    trainer = _teacher(run)
    login(client, trainer)
    add_session(run).trainer_id = trainer.id
    db.session.commit()
    run_id = run.id
    # Tests share the requests' database session: count each request from the same cold state.
    db.session.commit()  # expires everything and ends the transaction
    with count_queries() as few:
        assert client.get(f"/runs/{run_id}/sessions").status_code == 200
    for day in range(1, 12):
        session = add_session(run, starts_at=NOON + timedelta(days=day))
        session.trainer_id = trainer.id
    db.session.commit()
    db.session.commit()  # expires everything and ends the transaction
    with count_queries() as many:
        page = client.get(f"/runs/{run_id}/sessions").get_data(as_text=True)
    assert page.count('id="session-') == 12
    assert many.count == few.count


def test_run_page_lists_sessions_for_enrolled_learners_only(client):
    run, _ = run_with_learners(0)
    add_session(run)
    learner = create_user(Role.LEARNER)
    outsider = create_user(Role.LEARNER)
    enrol(run=run, person=learner.person, by=None, now=NOON - timedelta(days=30), source=MANAGER)
    db.session.commit()
    login(client, learner)
    page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "Wednesday, December 2, 2026" in page and "12:00" in page
    assert f"/runs/{run.id}/sessions" not in page
    other = client.application.test_client()
    login(other, outsider)
    assert "December 2, 2026" not in other.get(f"/runs/{run.id}").get_data(as_text=True)
    trainer = client.application.test_client()
    login(trainer, _teacher(run))
    assert f"/runs/{run.id}/sessions" in trainer.get(f"/runs/{run.id}").get_data(as_text=True)


def test_notifications_page_count_and_mark_read(client):
    learner = create_user(Role.LEARNER)
    other = create_user(Role.LEARNER)
    db.session.add_all(
        [
            Notification(person_id=learner.person_id, message="Older", created_at=NOON),
            Notification(
                person_id=learner.person_id, message="Newer", created_at=NOON + timedelta(hours=1)
            ),
            Notification(person_id=other.person_id, message="Someone else's"),
        ]
    )
    db.session.commit()
    login(client, learner)
    assert client.get("/notifications/count.json").get_json() == {"unread": 2}
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("Newer") < page.index("Older") and "Someone else" not in page
    assert client.post("/notifications/read").status_code == 302
    assert client.get("/notifications/count.json").get_json() == {"unread": 0}
    other_client = client.application.test_client()
    login(other_client, other)
    assert other_client.get("/notifications/count.json").get_json() == {"unread": 1}


def test_notifications_need_sign_in(client):
    assert client.get("/notifications/count.json").status_code == 302
    assert client.post("/notifications/read").status_code == 302

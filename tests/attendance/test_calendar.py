import re
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from app.attendance import calendar, schedule_routes, services
from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.enrollment.services import enrol
from app.extensions import db
from tests.attendance.helpers import MANAGER, NOON
from tests.conftest import create_course, create_run, create_user, login

# 10:00 in Belgrade on either side of the end of summer time (25 October 2026).
BEFORE_DST_END = datetime(2026, 10, 24, 8, 0)  # 10:00 CEST = 08:00 UTC
AFTER_DST_END = datetime(2026, 10, 26, 9, 0)  # 10:00 CET = 09:00 UTC


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch):
    # Feeds leave out sessions older than a year; the dates below must stay in whatever the day.
    monkeypatch.setattr(schedule_routes, "utcnow", lambda: datetime(2026, 10, 1))


def _session(run, starts_at, trainer_id=None):
    session = services.schedule_session(
        run=run,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        venue="Qendra Rinore",
        municipality_id=run.municipality_id,
        trainer_id=trainer_id,
    )
    db.session.commit()
    return session


def _learner_in(run):
    learner = create_user(Role.LEARNER)
    enrol(run=run, person=learner.person, by=None, now=NOON - timedelta(days=90), source=MANAGER)
    db.session.commit()
    return learner


def _feed(client, kind, object_id):
    token = calendar.feed_token(kind, object_id)
    response = client.get(f"/calendar/{kind}/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def _events(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_learner_feed_keeps_local_time_across_the_change_of_summer_time(client):
    run = create_run(course=create_course(title_en="Open data", title_sq="Të dhëna të hapura"))
    first = _session(run, BEFORE_DST_END)
    second = _session(run, AFTER_DST_END)
    learner = _learner_in(run)
    cal = _feed(client, calendar.LEARNER, learner.id)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Belgrade"]
    events = _events(cal)
    assert set(events) == {f"session-{first.id}@akademia", f"session-{second.id}@akademia"}
    for session, offset in ((first, 2), (second, 1)):
        event = events[f"session-{session.id}@akademia"]
        start = event.decoded("DTSTART")
        assert event["DTSTART"].params["TZID"] == "Europe/Belgrade"
        assert (start.hour, start.minute) == (10, 0)
        assert start.utcoffset() == timedelta(hours=offset)
        assert event.decoded("DTEND") - start == timedelta(hours=2)
        assert str(event["SUMMARY"]) == "Të dhëna të hapura"  # the run's language (sq)
        assert str(event["LOCATION"]) == "Qendra Rinore, Prishtinë/Priština"
        assert str(event["STATUS"]) == "CONFIRMED" and event["SEQUENCE"] == 0
        assert "DTSTAMP" in event


def test_moved_and_cancelled_sessions_update_in_the_feed(client):
    run = create_run()
    moved = _session(run, BEFORE_DST_END)
    cancelled = _session(run, AFTER_DST_END)
    learner = _learner_in(run)
    services.move_session(
        session=moved,
        starts_at=BEFORE_DST_END + timedelta(hours=4),
        ends_at=BEFORE_DST_END + timedelta(hours=6),
        venue="Salla 2",
        municipality_id=run.municipality_id,
        trainer_id=None,
        message="Moved",
    )
    services.cancel_session(session=cancelled, message="Cancelled")
    db.session.commit()
    events = _events(_feed(client, calendar.LEARNER, learner.id))
    assert len(events) == 2  # cancelled sessions stay, so clients remove them
    event = events[f"session-{moved.id}@akademia"]
    assert event["SEQUENCE"] == 1 and event.decoded("DTSTART").hour == 14
    assert str(event["LOCATION"]).startswith("Salla 2")
    event = events[f"session-{cancelled.id}@akademia"]
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1


def test_learner_feed_has_only_the_runs_they_are_enrolled_in(client):
    mine, other = create_run(), create_run()
    kept = _session(mine, BEFORE_DST_END)
    _session(other, BEFORE_DST_END)
    learner = _learner_in(mine)
    assert set(_events(_feed(client, calendar.LEARNER, learner.id))) == {
        f"session-{kept.id}@akademia"
    }


def test_trainer_feed_has_runs_taught_and_sessions_given(client):
    taught, guest, foreign = create_run(), create_run(), create_run()
    trainer = create_user(Role.TRAINER, programme=taught.programme)
    db.session.add(CourseRunTrainer(run_id=taught.id, user_id=trainer.id))
    db.session.commit()
    a = _session(taught, BEFORE_DST_END)
    b = _session(guest, AFTER_DST_END, trainer_id=trainer.id)
    _session(guest, AFTER_DST_END + timedelta(days=1))
    _session(foreign, AFTER_DST_END)
    events = _events(_feed(client, calendar.TRAINER, trainer.id))
    assert set(events) == {f"session-{a.id}@akademia", f"session-{b.id}@akademia"}


def test_run_feed(client):
    run = create_run()
    session = _session(run, AFTER_DST_END)
    _session(create_run(), AFTER_DST_END)
    assert set(_events(_feed(client, calendar.RUN, run.id))) == {f"session-{session.id}@akademia"}


def test_bad_tokens_are_404(client):
    run = create_run()
    learner = _learner_in(run)
    learner_token = calendar.feed_token(calendar.LEARNER, learner.id)
    assert client.get(f"/calendar/learner/{learner_token}x.ics").status_code == 404
    assert client.get("/calendar/learner/not-a-token.ics").status_code == 404
    # A token is bound to its kind of feed: a learner's token opens no run or trainer feed.
    assert client.get(f"/calendar/trainer/{learner_token}.ics").status_code == 404
    assert client.get(f"/calendar/run/{learner_token}.ics").status_code == 404
    missing = calendar.feed_token(calendar.RUN, 999999)
    assert client.get(f"/calendar/run/{missing}.ics").status_code == 404
    learner.active = False
    db.session.commit()
    assert client.get(f"/calendar/learner/{learner_token}.ics").status_code == 404


def test_calendar_page_shows_the_feeds_of_the_user(client):
    run = create_run()
    trainer = create_user(Role.TRAINER, programme=run.programme)
    db.session.add(CourseRunTrainer(run_id=run.id, user_id=trainer.id))
    db.session.commit()
    login(client, trainer)
    page = client.get("/calendar").get_data(as_text=True)
    tokens = {
        kind: calendar.feed_token(kind, object_id)
        for kind, object_id in (
            (calendar.LEARNER, trainer.id),
            (calendar.TRAINER, trainer.id),
            (calendar.RUN, run.id),
        )
    }
    for kind, token in tokens.items():
        assert f"webcal://localhost/calendar/{kind}/{token}.ics" in page
        assert f"http://localhost/calendar/{kind}/{token}.ics" in page
    learner_page = client.application.test_client()
    login(learner_page, _learner_in(run))
    html = learner_page.get("/calendar").get_data(as_text=True)
    assert "/calendar/learner/" in html and not re.search(r"/calendar/(trainer|run)/", html)

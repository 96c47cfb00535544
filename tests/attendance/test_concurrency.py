"""Many trainers and many phones at once: nothing lost, nothing doubled, no "database is locked".

Runs on whichever database the suite uses: a SQLite file (writing requests take the lock up
front with BEGIN IMMEDIATE and wait) or PostgreSQL (upserts on the unique constraints).
"""

import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.attendance.models import Attendance, AttendanceMark
from app.auth.roles import Role
from app.courses.models import CourseRunTrainer
from app.extensions import db
from app.timeutil import utcnow
from tests.attendance.helpers import add_session
from tests.attendance.test_routes import signed_in, teaching_world
from tests.conftest import create_user

THREADS = 8
URL = "/api/attendance/marks"


def run_threads(work):
    # Requests made from the test's own thread (the sign-ins) share its session, and a
    # writing request leaves it inside a BEGIN IMMEDIATE: end that before the crowd arrives.
    db.session.rollback()
    errors: list[BaseException] = []

    def guarded(i):
        try:
            work(i)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []


def post(client, marks, answers):
    """Send like rollcall.js: retry on 503 (the outbox keeps the marks meanwhile)."""
    for _attempt in range(20):
        response = client.post(URL, json={"marks": marks})
        body = response.get_data(as_text=True)
        answers.append((response.status_code, body))
        if response.status_code != 503:
            return response.get_json()["results"]
    raise AssertionError("still busy after 20 tries")


def trainers_of(world, n):
    users = [world.trainer]
    for _ in range(n - 1):
        user = create_user(Role.TRAINER, programme=world.run.programme)
        db.session.add(CourseRunTrainer(run_id=world.run.id, user_id=user.id))
        users.append(user)
    db.session.commit()
    return users


def test_many_trainers_marking_at_once_lose_and_double_nothing(app):
    world = teaching_world(25, capacity=25)
    sessions = [world.session] + [
        add_session(world.run, world.session.starts_at + timedelta(days=d)) for d in (1, 2, 3)
    ]
    clients = [signed_in(app, user) for user in trainers_of(world, THREADS)]
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    # 4 sessions × 25 learners = 100 rows, shared out between the trainers: each trainer
    # sends its marks one per request (as a phone does), then replays them all in one batch
    # (an answer that got lost), so every mark reaches the server at least twice.
    pairs = [(s.id, p.id) for s in sessions for p in world.learners]
    marks = [
        {
            "client_id": str(uuid.uuid4()),
            "session_id": sid,
            "person_id": pid,
            "status": "present",
            "marked_at": (t0 + timedelta(seconds=i)).isoformat() + "Z",
        }
        for i, (sid, pid) in enumerate(pairs)
    ]
    answers: list[tuple[int, str]] = []

    def work(i):
        mine = marks[i::THREADS]
        for mark in mine:
            (result,) = post(clients[i], [mark], answers)
            assert result["ok"], result
        replayed = post(clients[i], mine, answers)
        assert all(r["ok"] and r["duplicate"] for r in replayed)

    run_threads(work)
    assert all(status in (200, 503) for status, _ in answers)
    assert not any("locked" in body for _, body in answers)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == len(pairs)
    assert db.session.scalar(sa.select(sa.func.count(AttendanceMark.id))) == len(marks)
    stored = set(db.session.execute(sa.select(Attendance.session_id, Attendance.person_id)).all())
    assert stored == set(pairs)


def test_same_person_marked_by_everyone_at_once_keeps_the_latest(app):
    world = teaching_world(1)
    (person,) = world.learners
    clients = [signed_in(app, user) for user in trainers_of(world, THREADS)]
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    statuses = ["present", "late", "excused", "absent"]
    answers: list[tuple[int, str]] = []
    sent = {}
    sid, pid = world.session.id, person.id  # threads have no app context to load them in

    def work(i):
        for round_ in range(5):
            mark = {
                "client_id": str(uuid.uuid4()),
                "session_id": sid,
                "person_id": pid,
                "status": statuses[(i + round_) % 4],
                # distinct device times: thread i, round r
                "marked_at": (t0 + timedelta(seconds=10 * round_ + i)).isoformat() + "Z",
            }
            sent[mark["client_id"]] = mark
            # the same mark twice at once: a double tap racing itself
            results = post(clients[i], [mark, mark], answers)
            assert [r["ok"] for r in results] == [True, True]

    run_threads(work)
    assert not any("locked" in body for _, body in answers)
    db.session.rollback()
    latest = max(sent.values(), key=lambda m: m["marked_at"])
    row = db.session.scalar(sa.select(Attendance))
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1
    assert (row.status, row.client_id) == (latest["status"], latest["client_id"])
    assert db.session.scalar(sa.select(sa.func.count(AttendanceMark.id))) == len(sent)
    applied = set(
        db.session.scalars(sa.select(AttendanceMark.client_id).where(AttendanceMark.applied))
    )
    assert latest["client_id"] in applied


def test_qr_scans_and_roll_call_at_once(app):
    """Learners scanning while two trainers mark: one row per learner, every mark kept."""
    from app.attendance import services
    from app.enrollment.services import enrol
    from tests.attendance.helpers import MANAGER

    world = teaching_world(0, starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=5))
    learners = [create_user(Role.LEARNER) for _ in range(THREADS)]
    for learner in learners:
        enrol(
            run=world.run,
            person=learner.person,
            by=None,
            now=utcnow() - timedelta(days=2),
            source=MANAGER,
        )
    db.session.commit()
    scanners = [signed_in(app, learner) for learner in learners]
    trainer = signed_in(app, world.trainer)
    session, sid = world.session, world.session.id
    tokens = {}  # the QR screen's token per 10-second window, computed up front
    now = utcnow()
    for second in range(0, 130, 5):
        moment = now + timedelta(seconds=second)
        tokens[int(moment.timestamp()) // services.QR_PERIOD_SECONDS] = services.qr_token(
            session, moment
        )
    person_ids = [learner.person.id for learner in learners]

    def url():
        return f"/check-in/{sid}/{tokens[int(utcnow().timestamp()) // services.QR_PERIOD_SECONDS]}"

    pages: list[tuple[int, str]] = []
    import re

    def work(i):
        scanned = url()
        page = scanners[i].get(scanned)
        ticket = re.search(
            r'name="ticket" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
        )
        answer = scanners[i].post(scanned, data={"ticket": ticket.group(1)})
        pages.append((answer.status_code, answer.get_data(as_text=True)))
        if i % 2:  # meanwhile the trainer marks someone else absent, with an older device time
            mark = {
                "client_id": str(uuid.uuid4()),
                "session_id": sid,
                "person_id": person_ids[i - 1],
                "status": "absent",
                "marked_at": (utcnow() - timedelta(minutes=30)).isoformat() + "Z",
            }
            post(trainer, [mark], pages)

    run_threads(work)
    assert not any("locked" in body for _, body in pages)
    assert sum(1 for status, body in pages if "You are checked in" in body) == THREADS
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == THREADS
    # The scans are later (device time) than the trainer's stale marks: every learner present.
    assert set(db.session.scalars(sa.select(Attendance.status))) == {"present"}

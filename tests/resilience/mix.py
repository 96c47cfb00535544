"""A realistic mix of traffic against Akademia under gunicorn, shared by the load test
(tests/resilience/test_load.py, which checks correctness) and bench/load.py (which times it).

- build_world: a fresh database with a course run in progress (trainers, learners, daily
  sessions, a practice quiz of short-answer questions) and a finished run whose learners hold
  valid certificates with their PDFs;
- Server: gunicorn serving wsgi:app (or any target) as a subprocess;
- Browser: one signed-in person's cookies, CSRF token and connection;
- run_mix: N clients for T seconds; trainers send roll-call marks through the sync API and
  view pages, learners answer quiz questions, submit attempts, download certificates and
  view pages; every answer is recorded in a Ledger;
- check: the database against the ledger (lost, duplicated, half-written rows).
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "load-" + secrets.token_urlsafe(12)
QUESTIONS = 5


# Databases -------------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_postgres_database(server_url: str, name: str) -> str:
    """A new, empty database beside the one in server_url (same server and user)."""
    admin = sa.create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return str(sa.make_url(sqlalchemy_url(server_url)).set(database=name).render_as_string(False))


def drop_postgres_database(server_url: str, name: str) -> None:
    admin = sa.create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


# Data ------------------------------------------------------------------------------------


@dataclass
class World:
    url: str
    folder: Path
    trainers: list[str]
    learners: list[str]
    run_id: int
    finished_run_id: int
    session_ids: list[int]
    person_ids: list[int]
    quiz_id: int
    certificates: dict[str, int]  # learner e-mail -> certificate id

    def env(self) -> dict:
        """What a server or a consumer needs to work on this world."""
        return {
            "DATABASE_URL": self.url,
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "AKADEMIA_ENV": "development",
            "MAIL_BACKEND": "file",
            "CERT_STORAGE_DIR": str(self.folder / "certificates"),
            "CERT_SIGNING_KEY_PATH": str(self.folder / "signing_key.pem"),
            "HUEY_SQLITE_PATH": str(self.folder / "huey.sqlite"),
            "PYTHONPATH": str(ROOT),
        }


def world_config(url: str, folder: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
        "TESTING": False,
        "MAIL_BACKEND": "memory",
        "CERT_STORAGE_DIR": str(folder / "certificates"),
        "CERT_SIGNING_KEY_PATH": str(folder / "signing_key.pem"),
    }


def build_world(
    url: str,
    folder: Path,
    *,
    trainers: int = 3,
    learners: int = 5,
    others: int = 60,
    sessions: int = 20,
) -> World:
    """A fresh Akademia database at url (empty, or a SQLite file to create) with its data."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    from app import create_app
    from app.attendance.models import Attendance, AttendanceStatus, Channel
    from app.attendance.services import schedule_series
    from app.auth import passwords
    from app.auth.models import User, UserRole
    from app.auth.roles import Role
    from app.certificates import pipeline
    from app.certificates.models import Certificate
    from app.courses.models import Course, CourseRun, CourseRunTrainer
    from app.database import import_models
    from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
    from app.extensions import db
    from app.people.models import Person, Sex, TargetGroup
    from app.places.models import Municipality
    from app.places.services import seed_places
    from app.programmes.models import Programme, ProgrammeMember
    from app.quizzes import services as quizzes
    from app.quizzes.banks import QuestionDraft, apply_drafts
    from app.quizzes.models import BankSource, QuestionBank, QuizKind, ShowWhen

    folder.mkdir(parents=True, exist_ok=True)
    app = create_app(world_config(url, folder))
    with app.app_context():
        import_models()
        db.create_all()
        seed_places()
        hall = db.session.scalar(sa.select(Municipality).order_by(Municipality.id))
        today = date.today()
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        programme = Programme(
            code="LOAD",
            name="Load programme",
            donor="Load",
            starts_on=today - timedelta(days=400),
            ends_on=today + timedelta(days=400),
        )

        def course(n: int) -> Course:
            return Course(
                slug=f"load-{n}",
                code=f"L-{n:03d}",
                title_en=f"Load course {n}",
                summary_en="For the load test.",
                description_en="For the load test.",
                hours=8,
                level=2,
            )

        def run(course: Course, starts_on: date, ends_on: date) -> CourseRun:
            return CourseRun(
                programme=programme,
                course=course,
                starts_on=starts_on,
                ends_on=ends_on,
                venue="Municipal hall",
                municipality=hall,
                language="sq",
                capacity=learners + others + 5,
                enrol_opens_at=now - timedelta(days=60),
                enrol_closes_at=now + timedelta(days=30),
            )

        current = run(course(1), today - timedelta(days=1), today + timedelta(days=sessions))
        finished = run(course(2), today - timedelta(days=12), today - timedelta(days=10))
        db.session.add_all([programme, current, finished])
        db.session.flush()
        password_hash = passwords.hash_password(PASSWORD)

        def account(first: str, last: str, role: Role) -> User:
            person = Person(
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}@load.test",
                sex=Sex.FEMALE,
                target_group=TargetGroup.MUNICIPAL_OFFICIAL,
                municipality=hall,
            )
            user = User(person=person, password_hash=password_hash, email_confirmed_at=now)
            user.role_rows.append(UserRole(role=role))
            db.session.add(user)
            db.session.flush()
            return user

        trainer_users = []
        for i in range(trainers):
            user = account("Trainer", f"T{i}", Role.TRAINER)
            db.session.add(ProgrammeMember(programme=programme, user=user, role=Role.TRAINER))
            for each in (current, finished):
                db.session.add(CourseRunTrainer(run_id=each.id, user_id=user.id))
            trainer_users.append(user)
        learner_users = [account("Learner", f"L{i}", Role.LEARNER) for i in range(learners)]
        people = [u.person for u in learner_users]
        for i in range(others):
            person = Person(
                first_name="Other",
                last_name=f"O{i:03d}",
                sex=Sex.MALE,
                target_group=TargetGroup.MUNICIPAL_OFFICIAL,
                municipality=hall,
            )
            db.session.add(person)
            people.append(person)
        db.session.flush()

        def enrol(run: CourseRun, person: Person) -> Enrollment:
            # Rows written directly: the enrolment rules are not what is exercised here.
            return Enrollment(
                run=run,
                person=person,
                status=EnrollmentStatus.ENROLLED,
                source=EnrollmentSource.MANAGER,
                requested_at=now - timedelta(days=40),
                enrolled_at=now - timedelta(days=40),
            )

        db.session.add_all(enrol(current, p) for p in people)
        db.session.add_all(enrol(finished, u.person) for u in learner_users)
        first = now.replace(hour=8, minute=0, second=0) - timedelta(days=1)
        series = schedule_series(
            run=current,
            first_starts_at=first,
            first_ends_at=first + timedelta(hours=3),
            count=sessions,
            every_days=1,
            venue="Municipal hall",
            municipality_id=hall.id,
            trainer_id=None,
        )
        past = datetime.combine(finished.starts_on, datetime.min.time()) + timedelta(hours=8)
        held = schedule_series(
            run=finished,
            first_starts_at=past,
            first_ends_at=past + timedelta(hours=3),
            count=3,
            every_days=1,
            venue="Municipal hall",
            municipality_id=hall.id,
            trainer_id=None,
        )
        db.session.add_all(
            Attendance(
                session_id=s.id,
                person_id=u.person_id,
                status=AttendanceStatus.PRESENT,
                marked_at=s.starts_at,
                channel=Channel.ROLL_CALL,
                client_id=secrets.token_hex(8),
            )
            for s in held
            for u in learner_users
        )
        bank = QuestionBank(
            course=current.course, slug="load", title_en="Load bank", source=BankSource.CURRICULUM
        )
        db.session.add(bank)
        db.session.flush()
        apply_drafts(
            bank,
            [
                QuestionDraft(
                    key=f"q{n}",
                    qtype="short_answer",
                    competence="4.2",
                    level=3,
                    texts={"en": f"Question {n}?"},
                    data={"answers": [{"text": f"answer{n}", "weight": 100}]},
                )
                for n in range(1, QUESTIONS + 1)
            ],
            retire_missing=True,
        )
        quiz = quizzes.create_quiz(
            run=current,
            bank=bank,
            by=None,
            title="Practice",
            kind=QuizKind.PRACTICE,
            per_competence=None,
            shuffle_questions=False,
            shuffle_choices=False,
            time_limit_minutes=None,
            max_attempts=None,
            pass_mark=50.0,
            opens_at=now - timedelta(days=1),
            closes_at=None,
            show_results=ShowWhen.AFTER_SUBMIT,
            show_answers=ShowWhen.AFTER_SUBMIT,
        )
        db.session.commit()
        pipeline.issue_run_now(finished)  # renders the PDFs the learners will download
        certificates = {
            u.person.email: db.session.scalar(
                sa.select(Certificate.id).where(
                    Certificate.run_id == finished.id, Certificate.person_id == u.person_id
                )
            )
            for u in learner_users
        }
        world = World(
            url=url,
            folder=folder,
            trainers=[u.person.email for u in trainer_users],
            learners=[u.person.email for u in learner_users],
            run_id=current.id,
            finished_run_id=finished.id,
            session_ids=[s.id for s in series],
            person_ids=[p.id for p in people],
            quiz_id=quiz.id,
            certificates=certificates,
        )
        db.session.remove()
        db.engine.dispose()
    if None in certificates.values():
        raise RuntimeError("the finished run's certificates were not issued")
    return world


# Servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn as a subprocess in its own process group, sync workers, on loopback."""

    def __init__(self, target: str, env: dict, log: Path, *, workers: int = 4, config=None):
        self.port = free_port()
        self.log = log
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        if config:
            command += ["--config", str(config)]
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
                [*command, target],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")

    def workers(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.stop()


# Clients ---------------------------------------------------------------------------------

CSRF = re.compile(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Browser:
    """Just enough of a browser: one connection, cookies, forms and JSON, a CSRF token."""

    def __init__(self, port: int, timeout: float = 60):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        # A fresh connection per request, as gunicorn's sync workers close it after each
        # answer; a failed request is never sent again behind the caller's back.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response, data

    def get(self, path: str, headers=None):
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict):
        body = urlencode({"csrf_token": self.csrf, **fields}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body, headers)

    def post_json(self, path: str, payload: dict):
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRFToken": self.csrf,
        }
        return self.request("POST", path, json.dumps(payload).encode(), headers)

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        _, page = self.get("/auth/sign-in")
        self.csrf = CSRF.search(page).group(1).decode()
        response, _ = self.post_form("/auth/sign-in", {"email": email, "password": password})
        if response.status != 302:
            raise RuntimeError(f"sign-in failed for {email}: {response.status}")
        _, page = self.get("/")  # the session's own token, as a page after sign-in has it
        self.csrf = CSRF.search(page).group(1).decode()


def location_path(response) -> str:
    return urlsplit(response.getheader("Location", "")).path


# The mix -------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients saw: timings per request type, failures, and acknowledged writes."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)  # client_id -> pair
    marks_sent: set[str] = field(default_factory=set)
    answers: dict[int, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    attempts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    submitted: set[int] = field(default_factory=set)
    downloads: Counter = field(default_factory=Counter)  # certificate id -> acknowledged
    wall: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, call):
        began = time.perf_counter()
        try:
            response, data = call()
        except (OSError, http.client.HTTPException) as error:
            with self.lock:
                self.failures.append(f"{kind}: {type(error).__name__}: {error}")
            return None, b""
        elapsed = time.perf_counter() - began
        with self.lock:
            self.latencies[kind].append(elapsed)
            self.statuses[response.status] += 1
            if response.status >= 500:
                self.failures.append(f"{kind}: HTTP {response.status}: {data[:300]!r}")
        return response, data

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def _trainer(browser: Browser, world: World, ledger: Ledger, pairs, stop_at: float) -> None:
    pages = [
        "/courses",
        f"/runs/{world.run_id}",
        "/",
        f"/sessions/{world.session_ids[0]}/roll-call",
        "/teaching",
    ]
    statuses = ("present", "late", "excused", "absent")
    sent: list[dict] = []
    step = 0
    while time.monotonic() < stop_at:
        step += 1
        if step % 5 in (2, 4):
            path = pages[step % len(pages)]
            ledger.timed("page", lambda p=path: browser.get(p))
            continue
        if step % 7 == 0 and sent:
            mark = sent[-3] if len(sent) >= 3 else sent[0]  # a phone resending a lost answer
        else:
            session_id, person_id = pairs[len(sent) % len(pairs)]
            mark = {
                "client_id": uuid.uuid4().hex,
                "session_id": session_id,
                "person_id": person_id,
                "status": statuses[len(sent) % 4],
                "remark": "",
                "marked_at": datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z",
                "channel": "roll_call",
            }
            sent.append(mark)
            with ledger.lock:
                ledger.marks_sent.add(mark["client_id"])
        response, data = ledger.timed(
            "attendance mark",
            lambda m=mark: browser.post_json("/api/attendance/marks", {"marks": [m]}),
        )
        if response is not None and response.status == 200:
            result = json.loads(data)["results"][0]
            with ledger.lock:
                if result.get("ok"):
                    ledger.marks[mark["client_id"]] = (mark["session_id"], mark["person_id"])
                else:
                    ledger.failures.append(f"mark refused: {result}")
        elif response is not None:
            with ledger.lock:
                ledger.failures.append(f"mark: HTTP {response.status}: {data[:200]!r}")


def _start_attempt(browser: Browser, world: World, ledger: Ledger, email: str) -> int | None:
    response, data = ledger.timed(
        "quiz start", lambda: browser.post_form(f"/quizzes/{world.quiz_id}/start", {})
    )
    if response is None or response.status != 302:
        with ledger.lock:
            ledger.failures.append(f"quiz start: HTTP {getattr(response, 'status', None)}")
        return None
    attempt_id = int(location_path(response).rsplit("/", 1)[1])
    with ledger.lock:
        if attempt_id not in ledger.attempts[email]:
            ledger.attempts[email].append(attempt_id)
    return attempt_id


def _learner(browser: Browser, world: World, ledger: Ledger, email: str, stop_at: float):
    pages = ["/", "/courses", f"/runs/{world.run_id}", f"/quizzes/{world.quiz_id}"]
    certificate = world.certificates[email]
    attempt_id = None
    answered = 0
    step = 0
    while time.monotonic() < stop_at:
        step += 1
        if step % 6 in (1, 3):
            path = pages[step % len(pages)]
            ledger.timed("page", lambda p=path: browser.get(p))
            continue
        if step % 6 == 5:
            response, data = ledger.timed(
                "certificate PDF",
                lambda: browser.get(f"/certificates/{certificate}/download"),
            )
            if response is not None and response.status == 200:
                if not data.startswith(b"%PDF") or b"%%EOF" not in data[-1024:]:
                    with ledger.lock:
                        ledger.failures.append("certificate PDF: not a whole PDF")
                else:
                    with ledger.lock:
                        ledger.downloads[certificate] += 1
            continue
        if attempt_id is None:
            attempt_id = _start_attempt(browser, world, ledger, email)
            answered = 0
            if attempt_id is None:
                continue
        if answered >= 2 * QUESTIONS:
            response, _ = ledger.timed(
                "quiz submit",
                lambda a=attempt_id: browser.post_form(
                    f"/attempts/{a}/submit", {"action": "submit"}
                ),
            )
            if response is not None and response.status == 302:
                with ledger.lock:
                    ledger.submitted.add(attempt_id)
            attempt_id = None
            continue
        position = answered % QUESTIONS + 1
        value = f"{email.split('@')[0]}-{attempt_id}-{answered}"
        response, data = ledger.timed(
            "quiz answer",
            lambda a=attempt_id, p=position, v=value: browser.post_json(
                f"/attempts/{a}/answers", {"position": p, "values": {f"q{p}": [v]}}
            ),
        )
        answered += 1
        if response is not None and response.status == 200 and json.loads(data).get("saved"):
            with ledger.lock:
                ledger.answers[attempt_id][position] = value
        elif response is not None:
            with ledger.lock:
                ledger.failures.append(f"quiz answer: HTTP {response.status}: {data[:200]!r}")


def sign_in_all(port: int, world: World) -> list[tuple[str, str, Browser]]:
    people = [("trainer", e) for e in world.trainers] + [("learner", e) for e in world.learners]
    signed = []
    threads = []

    def sign(kind, email):
        browser = Browser(port)
        browser.sign_in(email)
        signed.append((kind, email, browser))

    for kind, email in people:  # in parallel: password hashing is slow on purpose
        threads.append(threading.Thread(target=sign, args=(kind, email)))
        threads[-1].start()
    for thread in threads:
        thread.join()
    if len(signed) != len(people):
        raise RuntimeError("some clients could not sign in")
    return sorted(signed, key=lambda s: s[1])


def run_mix(port: int, world: World, seconds: float) -> Ledger:
    """Every signed-in trainer and learner of the world sends its part of the mix for
    `seconds`, all at once; the answers are in the returned ledger."""
    clients = sign_in_all(port, world)
    ledger = Ledger()
    pairs = [(s, p) for s in world.session_ids for p in world.person_ids]
    trainers = [c for c in clients if c[0] == "trainer"]
    threads = []
    stop_at = time.monotonic() + seconds
    for kind, email, browser in clients:
        if kind == "trainer":
            index = trainers.index((kind, email, browser))
            own = pairs[index :: len(trainers)]
            target, args = _trainer, (browser, world, ledger, own, stop_at)
        else:
            target, args = _learner, (browser, world, ledger, email, stop_at)
        threads.append(threading.Thread(target=target, args=args))
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger.wall = time.perf_counter() - began
    return ledger


# Checking ------------------------------------------------------------------------------------


def check(url: str, ledger: Ledger) -> dict[str, list]:
    """Problems found in the database against what the clients were told; empty lists when
    every acknowledged write is stored exactly once and nothing is half-written."""
    from app.attendance.models import Attendance, AttendanceMark
    from app.certificates.models import CertificateEvent, EventKind
    from app.quizzes.models import Attempt, AttemptSlot, AttemptState

    problems: dict[str, list] = defaultdict(list)
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.connect() as db:
        # Attendance: every acknowledged mark once; one attendance row per pair, present for
        # every mark (the history row and the current row are written together).
        stored = Counter(db.scalars(sa.select(AttendanceMark.client_id)))
        problems["lost marks"] = sorted(set(ledger.marks) - set(stored))
        problems["duplicated marks"] = sorted(c for c, n in stored.items() if n > 1)
        problems["unknown marks"] = sorted(set(stored) - ledger.marks_sent)
        pairs = Counter(db.execute(sa.select(Attendance.session_id, Attendance.person_id)).all())
        problems["duplicated attendance rows"] = sorted(p for p, n in pairs.items() if n > 1)
        marked = set(
            db.execute(sa.select(AttendanceMark.session_id, AttendanceMark.person_id)).all()
        )
        problems["marks without attendance row"] = sorted(marked - set(pairs))
        # Quizzes: each attempt started once, with all its questions; each acknowledged answer
        # stored (the last one per question, as the learner saw it); submissions kept.
        attempts = {
            row.id: row
            for row in db.execute(sa.select(Attempt.id, Attempt.person_id, Attempt.state))
        }
        acknowledged = [a for ids in ledger.attempts.values() for a in ids]
        problems["lost attempts"] = sorted(set(acknowledged) - set(attempts))
        problems["unknown attempts"] = sorted(set(attempts) - set(acknowledged))
        slots = defaultdict(dict)
        for row in db.execute(
            sa.select(AttemptSlot.attempt_id, AttemptSlot.position, AttemptSlot.response)
        ):
            if row.position in slots[row.attempt_id]:
                problems["duplicated answers"].append((row.attempt_id, row.position))
            slots[row.attempt_id][row.position] = row.response
        for attempt_id in attempts:
            if len(slots[attempt_id]) != QUESTIONS:
                problems["half-written attempts"].append(attempt_id)
        for attempt_id, answers in ledger.answers.items():
            for position, value in answers.items():
                if slots[attempt_id].get(position) != value:
                    problems["lost answers"].append((attempt_id, position, value))
        for attempt_id in ledger.submitted:
            if attempt_id in attempts and attempts[attempt_id].state == AttemptState.OPEN:
                problems["lost submissions"].append(attempt_id)
        # Certificates: one download record per PDF received.
        events = Counter(
            db.scalars(
                sa.select(CertificateEvent.certificate_id).where(
                    CertificateEvent.kind == EventKind.DOWNLOADED
                )
            )
        )
        for certificate_id, count in ledger.downloads.items():
            if events[certificate_id] != count:
                problems["lost download records"].append((certificate_id, count))
    engine.dispose()
    problems["failed requests"] = list(ledger.failures)
    return {k: v for k, v in problems.items() if v}

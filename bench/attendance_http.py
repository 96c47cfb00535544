"""Attendance over HTTP: 1,000 marks from 8 concurrent phones against gunicorn (4 workers) on SQLite.

    make bench            (or: .venv/bin/python bench/attendance_http.py --help)

What it does, in one run of well under a minute, on loopback only:
1. builds a fresh SQLite database in a temporary folder with its own data: a programme, a
   course run with 8 trainers, 100 enrolled learners and 10 sessions (1,000 session × learner
   pairs);
2. starts the app with gunicorn, 4 sync workers;
3. 8 client threads, each signed in as one of the run's trainers (sign-in form, then the CSRF
   token from the roll-call page), send the 1,000 marks through POST /api/attendance/marks
   one mark per request, as a phone does; on 503 they wait Retry-After and resend, like
   rollcall.js; then every client replays a tenth of its marks (answers lost on the way back);
4. counts rows: lost marks (acknowledged or sent but not stored) and duplicated rows;
5. runs the same load against bench/reference_app.py, a bare Flask endpoint inserting into a
   bare SQLite table (no sign-in, CSRF, ORM or permission checks), and prints both with the
   ratio.

Not a test: figures depend on the machine. It exits non-zero when a mark is lost or doubled.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-" + secrets.token_urlsafe(12)
# Each load stops sending at this point, whatever is left (reported as "not sent"), so a run
# stays bounded on a slow or busy machine.
PHASE_SECONDS = 25


# Data ------------------------------------------------------------------------------------


def build_database(db_path: Path, *, learners: int, sessions: int, trainers: int) -> dict:
    """A fresh Akademia database with one run ready for roll-call; returns ids for the load."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    from app import create_app
    from app.attendance.services import schedule_series
    from app.auth import passwords
    from app.auth.models import User, UserRole
    from app.auth.roles import Role
    from app.courses.models import Course, CourseRun, CourseRunTrainer
    from app.database import import_models
    from app.enrollment.models import Enrollment, EnrollmentSource, EnrollmentStatus
    from app.extensions import db
    from app.people.models import Person, Sex, TargetGroup
    from app.places.models import Municipality
    from app.places.services import seed_places
    from app.programmes.models import Programme, ProgrammeMember

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "TESTING": False})
    with app.app_context():
        import_models()
        db.create_all()
        seed_places()
        hall = db.session.scalar(db.select(Municipality).order_by(Municipality.id))
        today = date.today()
        programme = Programme(
            code="BENCH",
            name="Benchmark programme",
            donor="Bench",
            starts_on=today - timedelta(days=60),
            ends_on=today + timedelta(days=300),
        )
        course = Course(
            slug="bench",
            code="B-001",
            title_en="Benchmark course",
            summary_en="For the benchmark.",
            description_en="For the benchmark.",
            hours=8,
            level=2,
        )
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        run = CourseRun(
            programme=programme,
            course=course,
            starts_on=today,
            ends_on=today + timedelta(days=sessions),
            venue="Municipal hall",
            municipality=hall,
            language="sq",
            capacity=learners,
            enrol_opens_at=now - timedelta(days=30),
            enrol_closes_at=now + timedelta(days=30),
        )
        db.session.add_all([programme, course, run])
        db.session.flush()
        password_hash = passwords.hash_password(PASSWORD)
        emails = []
        for i in range(trainers):
            person = Person(
                first_name="Trajner",
                last_name=f"Bench{i}",
                email=f"trainer{i}@bench.test",
                sex=Sex.FEMALE,
            )
            user = User(person=person, password_hash=password_hash, email_confirmed_at=now)
            user.role_rows.append(UserRole(role=Role.TRAINER))
            db.session.add(user)
            db.session.flush()
            db.session.add(ProgrammeMember(programme=programme, user=user, role=Role.TRAINER))
            db.session.add(CourseRunTrainer(run_id=run.id, user_id=user.id))
            emails.append(person.email)
        people = []
        for i in range(learners):
            person = Person(
                first_name="Nxënës",
                last_name=f"Bench{i:03d}",
                sex=Sex.MALE if i % 2 else Sex.FEMALE,
                target_group=TargetGroup.MUNICIPAL_OFFICIAL,
                municipality=hall,
            )
            db.session.add(person)
            people.append(person)
        db.session.flush()
        # Rows written directly (the enrolment rules are not what is measured here).
        db.session.add_all(
            Enrollment(
                run=run,
                person=person,
                status=EnrollmentStatus.ENROLLED,
                source=EnrollmentSource.MANAGER,
                requested_at=now - timedelta(days=20),
                enrolled_at=now - timedelta(days=20),
            )
            for person in people
        )
        first = now.replace(hour=8, minute=0, second=0) - timedelta(days=1)
        series = schedule_series(
            run=run,
            first_starts_at=first,
            first_ends_at=first + timedelta(hours=3),
            count=sessions,
            every_days=1,
            venue="Municipal hall",
            municipality_id=hall.id,
            trainer_id=None,
        )
        db.session.commit()
        result = {
            "emails": emails,
            "session_ids": [s.id for s in series],
            "person_ids": [p.id for p in people],
        }
        db.session.remove()
        db.engine.dispose()
    return result


# Servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target: str, port: int, env: dict, workers: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "30",
        "--log-level",
        "warning",
        target,
    ]
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def wait_ready(port: int, path: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on port {port}:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Clients ---------------------------------------------------------------------------------


class Browser:
    """Just enough of a browser: one connection, cookies, form posts, JSON posts."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # gunicorn's sync workers close the connection after each answer: reconnect.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response, data

    def sign_in(self, email: str, rollcall_path: str) -> str:
        _, page = self.request("GET", "/auth/sign-in")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urlencode({"csrf_token": token.decode(), "email": email, "password": PASSWORD})
        response, _ = self.request(
            "POST",
            "/auth/sign-in",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status != 302:
            raise SystemExit(f"sign-in failed for {email}: {response.status}")
        response, page = self.request("GET", rollcall_path)
        if response.status != 200:
            raise SystemExit(f"roll-call page answered {response.status}")
        return re.search(rb'"csrf": "([^"]+)"', page).group(1).decode()


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    stop_at: float = float("inf")


def send_marks(browser: Browser, path: str, marks: list[dict], headers: dict, load: Load, lock):
    for mark in marks:
        if time.perf_counter() > load.stop_at:
            return
        with lock:
            load.attempted.add(mark["client_id"])
        body = json.dumps({"marks": [mark]}).encode()
        for _attempt in range(30):
            started = time.perf_counter()
            response, data = browser.request(
                "POST", path, body, {"Content-Type": "application/json", **headers}
            )
            elapsed = time.perf_counter() - started
            if response.status == 503:
                with lock:
                    load.retries += 1
                time.sleep(float(response.getheader("Retry-After") or 1))
                continue
            with lock:
                load.latencies.append(elapsed)
            if response.status != 200:
                with lock:
                    load.errors.append(f"{response.status}: {data[:200]!r}")
                break
            (result,) = json.loads(data)["results"]
            with lock:
                if result.get("ok"):
                    load.acknowledged.add(result["client_id"])
                else:
                    load.errors.append(json.dumps(result))
            break


def run_load(port: int, clients: list[tuple[Browser, dict]], marks: list[dict], path: str) -> Load:
    """Each client sends its share one mark per request, then replays a tenth of it."""
    load = Load(stop_at=time.perf_counter() + PHASE_SECONDS)
    lock = threading.Lock()
    shares = [marks[i :: len(clients)] for i in range(len(clients))]

    def work(i):
        browser, headers = clients[i]
        send_marks(browser, path, shares[i], headers, load, lock)

    def replay(i):
        browser, headers = clients[i]
        replay_load = Load(stop_at=time.perf_counter() + 5)
        sent = [m for m in shares[i][::10] if m["client_id"] in load.attempted]
        send_marks(browser, path, sent, headers, replay_load, lock)
        with lock:
            load.errors.extend(replay_load.errors)
            load.retries += replay_load.retries

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PHASE_SECONDS + 20)
    load.wall = time.perf_counter() - started
    threads = [threading.Thread(target=replay, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return load


def make_marks(session_ids: list[int], person_ids: list[int], n: int) -> list[dict]:
    now = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    pairs = [(s, p) for s in session_ids for p in person_ids][:n]
    return [
        {
            "client_id": str(uuid.uuid4()),
            "session_id": s,
            "person_id": p,
            "status": ("present", "late", "excused", "absent")[i % 4],
            "remark": "",
            "marked_at": (now + timedelta(milliseconds=i)).isoformat() + "Z",
            "channel": "roll_call",
        }
        for i, (s, p) in enumerate(pairs)
    ]


# Counting --------------------------------------------------------------------------------


@dataclass
class Count:
    rows: int
    marks: int
    lost: int
    duplicated: int


def count_akademia(db_path: Path, load: Load) -> Count:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT count(*) FROM attendance").fetchone()[0]
        pairs = db.execute(
            "SELECT count(*) FROM (SELECT DISTINCT session_id, person_id FROM attendance)"
        ).fetchone()[0]
        stored = {r[0] for r in db.execute("SELECT client_id FROM attendance_mark")}
        history = db.execute("SELECT count(*) FROM attendance_mark").fetchone()[0]
    # Lost: sent (and so acknowledged, or retried until acknowledged) but not stored.
    lost = len(load.attempted - stored) + len(load.acknowledged - stored)
    duplicated = (rows - pairs) + (history - len(stored))
    return Count(rows=rows, marks=history, lost=lost, duplicated=duplicated)


def count_reference(db_path: Path, load: Load) -> Count:
    with sqlite3.connect(db_path) as db:
        stored = {r[0] for r in db.execute("SELECT client_id FROM mark")}
        rows = db.execute("SELECT count(*) FROM mark").fetchone()[0]
    lost = len(load.attempted - stored) + len(load.acknowledged - stored)
    return Count(rows=rows, marks=rows, lost=lost, duplicated=rows - len(stored))


# Report ----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, load: Load, count: Count) -> dict:
    sent = len(load.attempted)
    return {
        "name": name,
        "sent": sent,
        "throughput": sent / load.wall if load.wall else 0.0,
        "p50": 1000 * percentile(load.latencies, 50),
        "p95": 1000 * percentile(load.latencies, 95),
        "mean": 1000 * statistics.fmean(load.latencies) if load.latencies else float("nan"),
        "retries": load.retries,
        "errors": len(load.errors),
        "rows": count.rows,
        "lost": count.lost,
        "duplicated": count.duplicated,
        "wall": load.wall,
    }


def print_report(a: dict, b: dict, args) -> None:
    print()
    print(
        f"{args.marks} marks, {args.clients} concurrent clients, one mark per request "
        f"(+ a tenth replayed), gunicorn {args.workers} sync workers, SQLite (WAL)"
    )
    print(f"{'':28}{a['name']:>22}{b['name']:>22}")
    rows = [
        ("marks sent (1 per request)", "sent", "{}"),
        ("throughput (marks/s)", "throughput", "{:.0f}"),
        ("latency p50 (ms)", "p50", "{:.1f}"),
        ("latency p95 (ms)", "p95", "{:.1f}"),
        ("latency mean (ms)", "mean", "{:.1f}"),
        ("wall time (s)", "wall", "{:.2f}"),
        ("503 retries", "retries", "{}"),
        ("errors", "errors", "{}"),
        ("rows stored", "rows", "{}"),
        ("lost rows", "lost", "{}"),
        ("duplicated rows", "duplicated", "{}"),
    ]
    for label, key, fmt in rows:
        print(f"{label:28}{fmt.format(a[key]):>22}{fmt.format(b[key]):>22}")
    print(
        f"ratio {a['name']} / {b['name']}: throughput {a['throughput'] / b['throughput']:.2f}×, "
        f"p95 latency {a['p95'] / b['p95']:.2f}×"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--marks", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    learners, sessions = 100, max(1, -(-args.marks // 100))

    folder = Path(tempfile.mkdtemp(prefix="akademia-bench-"))
    processes = []
    try:
        began = time.perf_counter()
        db_path = folder / "akademia.db"
        data = build_database(db_path, learners=learners, sessions=sessions, trainers=args.clients)
        print(
            f"data: {learners} learners × {sessions} sessions, {args.clients} trainers ({time.perf_counter() - began:.1f} s)"
        )
        marks = make_marks(data["session_ids"], data["person_ids"], args.marks)

        # Akademia
        port = free_port()
        log = folder / "gunicorn-akademia.log"
        env = {
            "DATABASE_URL": f"sqlite:///{db_path}",
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "AKADEMIA_ENV": "development",
            "MAIL_BACKEND": "file",
        }
        processes.append(start_gunicorn("wsgi:app", port, env, args.workers, log))
        wait_ready(port, "/sw.js", processes[-1], log)
        rollcall = f"/sessions/{data['session_ids'][0]}/roll-call"
        clients = [(Browser(port), email) for email in data["emails"]]
        with ThreadPoolExecutor(len(clients)) as pool:  # password hashing is slow on purpose
            tokens = list(pool.map(lambda c: c[0].sign_in(c[1], rollcall), clients))
        clients = [
            (browser, {"X-CSRFToken": token, "Accept": "application/json"})
            for (browser, _email), token in zip(clients, tokens, strict=True)
        ]
        akademia_load = run_load(port, clients, marks, "/api/attendance/marks")
        stop(processes.pop())
        akademia = summary(
            "Akademia sync API", akademia_load, count_akademia(db_path, akademia_load)
        )

        # Reference
        sys.path.insert(0, str(ROOT / "bench"))
        import reference_app

        ref_db = folder / "reference.db"
        reference_app.create_schema(str(ref_db))
        port = free_port()
        log = folder / "gunicorn-reference.log"
        processes.append(
            start_gunicorn(
                "reference_app:app",
                port,
                {"REFERENCE_DB": str(ref_db), "PYTHONPATH": str(ROOT / "bench")},
                args.workers,
                log,
            )
        )
        wait_ready(port, "/ready", processes[-1], log)
        ref_clients = [(Browser(port), {}) for _ in range(args.clients)]
        ref_marks = [{**m, "client_id": str(uuid.uuid4())} for m in marks]
        reference_load = run_load(port, ref_clients, ref_marks, "/marks")
        stop(processes.pop())
        reference = summary(
            "bare Flask + sqlite3", reference_load, count_reference(ref_db, reference_load)
        )

        print_report(akademia, reference, args)
        for error in (akademia_load.errors + reference_load.errors)[:5]:
            print("error:", error)
        print(f"total {time.perf_counter() - began:.1f} s")
        for result in (akademia, reference):
            if result["sent"] < args.marks:
                print(
                    f"{result['name']}: {args.marks - result['sent']} marks not sent within "
                    f"{PHASE_SECONDS} s (machine too slow or busy); the figures cover those sent"
                )
        ok = all(
            r["lost"] == 0 and r["duplicated"] == 0 and r["errors"] == 0
            for r in (akademia, reference)
        )
        return 0 if ok else 1
    finally:
        for process in processes:
            stop(process)
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

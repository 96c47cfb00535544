"""Data for the donor-report benchmark: one programme year at full scale, fast and reproducible.

    .venv/bin/python bench/report_data.py --url sqlite:////tmp/report.db           # full scale
    .venv/bin/python bench/report_data.py --url sqlite:////tmp/small.db --scale 0.05

At scale 1: 100,000 people, ~300 institutions, 2,000 courses with one run each in one
programme (2025, four quarters), 40,000 sessions, 50,000 enrolments, ~943,000 attendance rows
(one per session held after each enrolment: late joiners, withdrawals, waiting lists and
cancelled sessions keep it under 50,000 × 20), 200,000 quiz attempts, reaction and follow-up
surveys, some certificates, TalkDigital meetings. The database must be empty: tables are
created here (`db.create_all()`) and the places seeded, then rows go in through Core
executemany in chunks of 10,000 (COPY on PostgreSQL); ORM objects one by one would take an
hour. The same seed gives the same rows on SQLite and PostgreSQL, and `generate` returns the
headline figure computed in Python from the rows it wrote ("expected"), a third opinion
beside the app and the hand-written query. About 1 min on SQLite, 1.5 min on PostgreSQL.
"""

import argparse
import contextlib
import hashlib
import itertools
import json
import random
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import report_data_learning as learning  # noqa: E402
import report_data_people as people_rows  # noqa: E402
import report_data_runs as runs_rows  # noqa: E402
from report_data_runs import TRAINERS, YEAR  # noqa: E402

SEED = 2025
CHUNK = 10_000
MANAGERS = 2
# Bump when the rows change, so a cached database made by an older generator is not reused.
VERSION = 2


class Loader:
    """Core executemany in chunks (COPY on PostgreSQL), one commit per table; counts rows."""

    def __init__(self, echo):
        from app.extensions import db

        self.db = db
        self.echo = echo
        self.counts: dict[str, int] = {}
        self.started = time.perf_counter()

    def insert(self, model, rows) -> int:
        table = model.__table__
        if self.db.engine.dialect.name == "postgresql":
            count = self._copy(table, rows)
        else:
            batch: list[dict] = []
            count = 0
            for row in rows:
                batch.append(row)
                if len(batch) == CHUNK:
                    self.db.session.execute(table.insert(), batch)
                    count += len(batch)
                    batch = []
            if batch:
                self.db.session.execute(table.insert(), batch)
                count += len(batch)
        self.db.session.commit()
        self.counts[table.name] = self.counts.get(table.name, 0) + count
        self.echo(f"  {table.name:24} {count:>10,}  ({time.perf_counter() - self.started:6.1f} s)")
        return count

    def _copy(self, table, rows) -> int:
        """PostgreSQL's COPY: the load takes 90 s instead of 200 s with executemany through
        psycopg. COPY knows nothing of the models' Python-side defaults, so columns a row leaves out
        get them here (a column added to a model later keeps working)."""
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return 0
        defaults = {c.name: c.default for c in table.columns
                    if c.name not in first and c.default is not None}  # fmt: skip
        keys = list(first)
        columns = ", ".join(f'"{name}"' for name in keys + list(defaults))
        cursor = self.db.session.connection().connection.driver_connection.cursor()
        count = 0
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in itertools.chain([first], rows):
                values = [row[k] for k in keys]
                values = [json.dumps(v) if isinstance(v, dict) else v for v in values]
                values += [d.arg(None) if d.is_callable else d.arg for d in defaults.values()]
                copy.write_row(values)
                count += 1
        return count


def is_empty() -> bool:
    from app.extensions import db
    from app.programmes.models import Programme

    return db.session.scalar(sa.select(sa.func.count()).select_from(Programme)) == 0


def generate(*, seed: int = SEED, scale: float = 1.0, echo=print) -> dict:
    """Fill the app's empty database (tables created, places seeded); return counts and truth."""
    from app.attendance.models import CourseSession
    from app.auth.models import User, UserRole
    from app.courses.models import Course, CourseCompetence, CourseRun, CourseRunTrainer
    from app.enrollment.models import Enrollment
    from app.extensions import db
    from app.people.models import Institution, Person
    from app.places.models import Municipality
    from app.programmes.models import Programme, ProgrammeMember, ReportingPeriod

    rng = random.Random(seed)
    load = Loader(echo)
    if db.engine.dialect.name == "sqlite":
        # A bigger page cache keeps the indexes of the big tables in memory while loading.
        db.session.connection().exec_driver_sql("PRAGMA cache_size=-262144")
    # Ordered, so that the same seed picks the same places on every database.
    municipalities = dict(db.session.execute(
        sa.select(Municipality.code, Municipality.id).order_by(Municipality.code)).all())  # fmt: skip
    n_people = round(100_000 * scale)
    n_runs = round(2_000 * scale)

    institutions = people_rows.institutions(rng, municipalities)
    load.insert(Institution, institutions)
    by_group: dict[str, list[int]] = {}

    def tracked(rows):
        for row in rows:
            by_group.setdefault(row["target_group"], []).append(row["id"])
            yield row

    load.insert(Person, tracked(people_rows.people(rng, n_people, municipalities,
                                                   institutions, YEAR)))  # fmt: skip
    # The last people are the staff: 50 trainers and 2 managers with accounts, never learners.
    staff = list(range(n_people - TRAINERS - MANAGERS + 1, n_people + 1))
    learners = [p for p in range(1, n_people + 1) if p < staff[0]]
    rng.shuffle(learners)  # regulars (who enrol again and again) are the front of this list
    load.insert(User, ({"id": i + 1, "person_id": pid, "password_hash": None, "locale": "sq",
                        "active": True, "created_at": people_rows.CREATED}
                       for i, pid in enumerate(staff)))  # fmt: skip
    roles = ["trainer"] * TRAINERS + ["manager"] * MANAGERS
    load.insert(UserRole, ({"user_id": i + 1, "role": r} for i, r in enumerate(roles)))

    programme = {"id": 1, "code": "DAK-2025", "name": "Digital Agenda Kosovo — Akademia 2025",
                 "donor": "Fondacioni për Demokraci (bench)", "grant_code": "GR-2025-017",
                 "starts_on": date(YEAR, 1, 1), "ends_on": date(YEAR, 12, 31),
                 "attendance_threshold": 80, "created_at": people_rows.CREATED}  # fmt: skip
    load.insert(Programme, [programme])
    quarters = [(f"{YEAR} Q{q + 1}", date(YEAR, 3 * q + 1, 1),
                 date(YEAR + (q == 3), (3 * q + 4) % 12 or 12, 1) - timedelta(days=1))
                for q in range(4)]  # fmt: skip
    load.insert(ReportingPeriod, ({"programme_id": 1, "name": n, "starts_on": s, "ends_on": e}
                                  for n, s, e in quarters))  # fmt: skip
    load.insert(ProgrammeMember, ({"programme_id": 1, "user_id": i + 1, "role": r}
                                  for i, r in enumerate(roles)))  # fmt: skip

    load.insert(Course, runs_rows.courses(rng, n_runs))
    load.insert(CourseCompetence, runs_rows.competences(rng, n_runs))
    runs = runs_rows.plan_runs(rng, n_runs, municipalities)
    load.insert(CourseRun, (run["row"] for run in runs))
    load.insert(CourseRunTrainer, ({"run_id": run["id"], "user_id": t}
                                   for run in runs for t in run["trainers"]))  # fmt: skip
    load.insert(CourseSession, runs_rows.sessions(rng, runs))
    participations = runs_rows.plan_enrolments(rng, runs, learners, round(50_000 * scale))
    load.insert(Enrollment, (p["row"] for p in participations))

    truth = learning.fill(load, rng, runs, participations, by_group, quarters,
                          attempts=round(200_000 * scale), seed=seed)  # fmt: skip
    if db.engine.dialect.name == "postgresql":
        reset_sequences(load.counts)
    return {"seed": seed, "scale": scale, "version": VERSION, "counts": load.counts,
            "expected": truth, "periods": [(n, s.isoformat(), e.isoformat())
                                           for n, s, e in quarters],
            "seconds": round(time.perf_counter() - load.started, 1)}  # fmt: skip


def reset_sequences(counts: dict[str, int]) -> None:
    """Rows were written with explicit ids: move PostgreSQL's sequences past them."""
    from app.extensions import db

    for table in counts:
        if "id" not in db.metadata.tables[table].c:
            continue
        # Table names come from the models' metadata, not from input.
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table}\"), false)"))  # fmt: skip
    db.session.commit()


def build(url: str, *, seed: int = SEED, scale: float = 1.0, echo=print) -> dict:
    """Create the tables in an empty database at `url`, seed the places, generate the data."""
    from app import create_app
    from app.database import import_models
    from app.extensions import db
    from app.places.services import seed_places

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "r" * 40})
    with app.app_context():
        import_models()
        db.create_all()
        if not is_empty():
            raise SystemExit(f"{url} already holds a programme: give an empty database")
        seed_places()
        db.session.commit()
        echo(f"generating (seed {seed}, scale {scale}) into {url}")
        summary = generate(seed=seed, scale=scale, echo=echo)
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # Statistics and the visibility map, as autovacuum would have them on a live server.
            started = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
            summary["seconds"] = round(summary["seconds"] + time.perf_counter() - started, 1)
            echo(f"  VACUUM ANALYZE             {time.perf_counter() - started:6.1f} s")
        db.engine.dispose()
    return summary


# --- For bench/reports.py: generation in a child process, and the cached SQLite file ---------


def in_child(url: str, *, seed: int = SEED, scale: float = 1.0) -> dict:
    """Generate in a separate process, so its memory does not count in the caller's figures."""
    command = [sys.executable, __file__, "--url", url, "--seed", str(seed),
               "--scale", str(scale), "--json"]  # fmt: skip
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"generating data into {url} failed (its error is above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


def schema_fingerprint() -> str:
    """Changes when any model changes, so a cached database is never of an older schema."""
    from sqlalchemy.dialects import sqlite

    from app.database import import_models
    from app.extensions import db

    import_models()
    ddl = "".join(str(sa.schema.CreateTable(t).compile(dialect=sqlite.dialect()))
                  for t in db.metadata.sorted_tables)  # fmt: skip
    return hashlib.sha256(ddl.encode()).hexdigest()[:16]


def cached_sqlite(folder: Path, *, seed: int, scale: float, fresh: bool) -> tuple[str, dict, str]:
    """(url, summary, note): the cached file when complete and current, else a new one."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"report-seed{seed}-scale{scale:g}.sqlite"
    sidecar, url = path.with_suffix(".json"), f"sqlite:///{path}"
    key = {"version": VERSION, "seed": seed, "scale": scale, "schema": schema_fingerprint()}
    if not fresh and path.exists() and sidecar.exists():
        summary = json.loads(sidecar.read_text())
        if {k: summary.get(k) for k in key} == key and counts_match(path, summary["counts"]):
            return url, summary, f"cached {path} (made in {summary['seconds']:.0f} s)"
    for stale in (path, sidecar, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    summary = {**in_child(url, seed=seed, scale=scale), **key}
    sidecar.write_text(json.dumps(summary))  # written last: it marks the file complete
    return url, summary, f"generated in {summary['seconds']:.0f} s, cached in {path}"


def counts_match(path: Path, counts: dict) -> bool:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        try:
            return all(connection.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] == n  # noqa: S608
                       for t, n in counts.items())  # fmt: skip
        except sqlite3.Error:  # a file cut short, or tables of another version
            return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="progress to stderr, summary as JSON")
    args = parser.parse_args()
    if args.json:
        summary = build(args.url, seed=args.seed, scale=args.scale,
                        echo=lambda line: print(line, file=sys.stderr, flush=True))  # fmt: skip
        print(json.dumps(summary))
        return
    summary = build(args.url, seed=args.seed, scale=args.scale)
    print(f"done in {summary['seconds']} s; expected people trained: {summary['expected']}")


if __name__ == "__main__":
    main()

"""Donor report at full scale, on SQLite and PostgreSQL, next to a hand-written query.

    .venv/bin/python bench/reports.py                     # both databases, median of 3
    .venv/bin/python bench/reports.py --db sqlite --fresh --rounds 1

Data: bench/report_data.py (100,000 people, 2,000 runs, 40,000 sessions, ~1M attendance
rows, 200,000 quiz attempts). The SQLite file is cached under --cache-dir and reused while
the generator, seed, scale and schema are unchanged; PostgreSQL is a throwaway server
(scripts/pg_server.sh) loaded afresh and stopped at the end, even on error.

Measured, each in its own child process so that memory figures are its own:
- app: `add_standard_indicators` once, then `compute_report` (all measures, all breakdowns)
  for the year and for one quarter, and `xlsx_bytes` of the year's report;
- reference: one text SQL query of the headline ("unique people trained"), same periods.
Times are the median of --rounds runs (time.perf_counter). Memory: "py peak" is the
tracemalloc peak of one extra run (Python objects only); "RSS +" is ru_maxrss after the timed
runs minus the RSS before them (includes SQLite's page cache, not PostgreSQL's server).
The headline is checked three ways: the app's "people trained" actual, the reference query,
and the generator's own count; the script exits non-zero when they differ.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import report_data  # noqa: E402

# Distinct people enrolled in the programme's runs ending in the period who attended (present
# or late) at least the threshold of the run's sessions held since they enrolled.
REFERENCE_SQL = """
SELECT COUNT(DISTINCT person_id) FROM (
    SELECT e.person_id, p.attendance_threshold AS threshold, COUNT(*) AS held,
           SUM(CASE WHEN a.status IN ('present', 'late') THEN 1 ELSE 0 END) AS attended
    FROM enrollment e
    JOIN course_run r ON r.id = e.run_id
    JOIN programme p ON p.id = r.programme_id
    JOIN course_session s ON s.run_id = r.id
    LEFT JOIN attendance a ON a.session_id = s.id AND a.person_id = e.person_id
    WHERE r.programme_id = :programme_id AND r.ends_on BETWEEN :starts_on AND :ends_on
      AND e.status = 'enrolled' AND s.status <> 'cancelled' AND s.starts_at >= e.enrolled_at
    GROUP BY e.id, e.person_id, p.attendance_threshold
) per_enrolment
WHERE attended * 100 >= threshold * held
"""
APP_FUNCTIONS = ("app.reports.services:add_standard_indicators",
                 "app.reports.compute:compute_report", "app.reports.exports:xlsx_bytes")  # fmt: skip


def missing_app_functions() -> list[str]:
    import importlib

    missing = []
    for target in APP_FUNCTIONS:
        module, name = target.split(":")
        try:
            getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as error:
            missing.append(f"{target} ({error})")
    return missing


# --- Children: one measurement each -----------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "r" * 40})


def measure(work, rounds: int) -> dict:
    """Median time of `rounds` runs, then one run under tracemalloc for the Python peak."""
    from app.extensions import db

    times, before = [], rss_mb()
    for _ in range(rounds):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
        db.session.rollback()  # end the read transaction; the next run starts cold in the ORM
        db.session.expire_all()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    db.session.rollback()
    return {"seconds": statistics.median(times), "runs": times, "py_peak_mb": peak,
            "rss_growth_mb": max(rss_growth, 0.0), "result": result}  # fmt: skip


def child(args) -> dict:
    from app.extensions import db
    from app.programmes.models import Programme

    app = make_app(args.url)
    starts_on, ends_on = (date.fromisoformat(d) for d in args.period.split(":"))
    with app.app_context():
        programme = db.session.get(Programme, 1)
        if args.phase == "indicators":
            from app.reports.services import add_standard_indicators

            added = add_standard_indicators(programme, by=None)
            db.session.commit()
            return {"added": len(added)}
        if args.phase == "reference":
            import sqlalchemy as sa

            query = sa.text(REFERENCE_SQL).bindparams(
                sa.bindparam("starts_on", type_=sa.Date), sa.bindparam("ends_on", type_=sa.Date))  # fmt: skip
            params = {"programme_id": 1, "starts_on": starts_on, "ends_on": ends_on}
            return measure(lambda: db.session.execute(query, params).scalar_one(), args.rounds)
        if args.phase == "compute":
            from app.reports.compute import compute_report
            from app.reports.data import to_json

            report = None

            def work():
                nonlocal report
                report = compute_report(programme, starts_on=starts_on, ends_on=ends_on,
                                        language="en", public=False)  # fmt: skip
                found = [i.actual for i in report.indicators if i.measure == "people_trained"]
                return found[0] if found else None

            out = measure(work, args.rounds)
            if args.save:
                Path(args.save).write_text(to_json(report), encoding="utf-8")
            out["indicators"] = len(report.indicators)
            out["cells"] = sum(len(c) for i in report.indicators for c in i.breakdowns.values())
            return out
        if args.phase == "xlsx":
            from app.reports.data import from_json
            from app.reports.exports import xlsx_bytes

            report = from_json(Path(args.save).read_text(encoding="utf-8"))
            return measure(lambda: len(xlsx_bytes(report)), args.rounds)
    raise ValueError(args.phase)


def run_child(phase: str, url: str, period: tuple, rounds: int, save: Path | None = None):
    command = [sys.executable, __file__, "--phase", phase, "--url", url, "--rounds", str(rounds),
               "--period", f"{period[0]}:{period[1]}"]  # fmt: skip
    if save:
        command += ["--save", str(save)]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, cwd=ROOT)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"{phase} on {url.split(':')[0]} failed (its error is above)")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Parent: data, servers, table -------------------------------------------------------------


def postgres(action: str, folder: Path) -> str:
    """scripts/pg_server.sh: `start` returns the URL of a fresh server on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    command = ["bash", str(ROOT / "scripts/pg_server.sh"), action, str(folder), port]
    done = subprocess.run(command, capture_output=True, text=True, check=action == "start")  # noqa: S603
    return done.stdout.strip().splitlines()[-1] if action == "start" else ""


def measure_database(name: str, url: str, args, summary: dict, folder: Path) -> dict:
    p = periods(summary, args)
    added = run_child("indicators", url, p["year"], 1)["added"]
    print(f"{name}: {added or 'no'} standard indicators added; measuring", flush=True)
    saved = folder / f"{name}-report.json"
    out = {}
    for phase, period in (("reference", "year"), ("reference", "quarter"), ("compute", "year"),
                          ("compute", "quarter"), ("xlsx", "year")):  # fmt: skip
        save = saved if (phase, period) in (("compute", "year"), ("xlsx", "year")) else None
        out[f"{phase} {period}"] = run_child(phase, url, p[period], args.rounds, save)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--quarter", type=int, choices=(1, 2, 3, 4), default=2)
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached SQLite file")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "akademia-bench-reports")  # fmt: skip
    for internal in ("--phase", "--url", "--period", "--save"):  # the child processes' own
        parser.add_argument(internal, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(child(args)))
        return 0
    missing = missing_app_functions()
    if missing:
        print("The report code this benchmark measures is not there yet:\n  "
              + "\n  ".join(missing), file=sys.stderr)  # fmt: skip
        return 1
    # A SIGTERM (a timeout, a killed make) still stops the PostgreSQL server in `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    results, notes, summaries = {}, {}, {}
    folder = Path(tempfile.mkdtemp(prefix="akademia-bench-reports-"))
    pg_dir = None
    try:
        if args.db in ("both", "sqlite"):
            url, summaries["SQLite"], notes["SQLite"] = report_data.cached_sqlite(
                args.cache_dir, seed=args.seed, scale=args.scale, fresh=args.fresh)  # fmt: skip
            print(f"SQLite: {notes['SQLite']}", flush=True)
            results["SQLite"] = measure_database("SQLite", url, args, summaries["SQLite"], folder)
        if args.db in ("both", "postgresql"):
            # Its own folder in /tmp: the server runs as the postgres user, who must reach it.
            pg_dir = Path(tempfile.mkdtemp(prefix="akademia-bench-pg-"))
            url = postgres("start", pg_dir)
            summaries["PostgreSQL"] = summary = report_data.in_child(
                url, seed=args.seed, scale=args.scale
            )
            notes["PostgreSQL"] = f"generated in {summary['seconds']:.0f} s (throwaway server)"
            results["PostgreSQL"] = measure_database("PostgreSQL", url, args, summary, folder)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", getattr(error, "stderr", "") or "", file=sys.stderr)
        return 1
    finally:
        if pg_dir is not None:
            postgres("stop", pg_dir)
            shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    ok = print_table(results, summaries, notes, args)
    print(f"total {time.perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    return 0 if ok else 2


def periods(summary: dict, args) -> dict:
    quarters = summary["periods"]
    name, starts, ends = quarters[args.quarter - 1]
    return {"year": (quarters[0][1], quarters[-1][2]), "quarter": (starts, ends),
            "quarter_name": name, "year_name": quarters[0][1][:4]}  # fmt: skip


def print_table(results: dict, summaries: dict, notes: dict, args) -> bool:
    """The figures side by side; then the headline three ways. False when they differ."""
    first = summaries[next(iter(results))]
    c, p = first["counts"], periods(first, args)
    print(f"\nDonor report, one programme year: {c['person']:,} people, {c['course_run']:,} runs, "
          f"{c['course_session']:,} sessions, {c['enrollment']:,} enrolments, "
          f"{c['attendance']:,} attendance rows, {c['attempt']:,} quiz attempts; "
          f"median of {args.rounds}\n")  # fmt: skip
    q = p["quarter_name"]
    rows = [("compute_report, year (s)", "compute year", "{seconds:.1f}"),
            (f"compute_report, {q} (s)", "compute quarter", "{seconds:.1f}"),
            ("xlsx_bytes, year report (s)", "xlsx year", "{seconds:.2f}"),
            ("reference SQL, year (s)", "reference year", "{seconds:.2f}"),
            (f"reference SQL, {q} (s)", "reference quarter", "{seconds:.2f}"),
            ("compute_report year: py peak / RSS + (MB)", "compute year", "{py_peak_mb:.1f} / {rss_growth_mb:.0f}"),
            (f"compute_report {q}: py peak / RSS + (MB)", "compute quarter", "{py_peak_mb:.1f} / {rss_growth_mb:.0f}"),
            ("xlsx_bytes: py peak / RSS + (MB)", "xlsx year", "{py_peak_mb:.1f} / {rss_growth_mb:.0f}"),
            ("reference SQL year: py peak / RSS + (MB)", "reference year", "{py_peak_mb:.1f} / {rss_growth_mb:.0f}")]  # fmt: skip
    print(f"{'':44}" + "".join(f"{name:>18}" for name in results))
    for label, phase, fmt in rows:
        print(f"{label:44}" + "".join(f"{fmt.format(**r[phase]):>18}" for r in results.values()))
    for label, phase in (("ratio compute_report / reference, year", "year"),
                         (f"ratio compute_report / reference, {q}", "quarter")):  # fmt: skip
        ratios = [r[f"compute {phase}"]["seconds"] / r[f"reference {phase}"]["seconds"]
                  for r in results.values()]  # fmt: skip
        print(f"{label:44}" + "".join(f"{f'{x:.0f}×':>18}" for x in ratios))
    cells = [
        f"{r['compute year']['indicators']} / {r['compute year']['cells']}"
        for r in results.values()
    ]
    print(f"{'indicators / breakdown cells (year)':44}" + "".join(f"{x:>18}" for x in cells))
    ok = True
    print("\npeople trained                  app  reference   expected (generator)")
    for name, r in results.items():
        for period, phase in ((p["year_name"], "year"), (q, "quarter")):
            app, ref = r[f"compute {phase}"]["result"], r[f"reference {phase}"]["result"]
            truth = summaries[name]["expected"][period]
            same = app is not None and round(app) == ref == truth
            ok &= same
            shown = "none" if app is None else f"{app:,.0f}"
            print(f"  {name:12}{period:9}{shown:>9}{ref:>11,}{truth:>11,}   "
                  f"{'match' if same else 'MISMATCH'}")  # fmt: skip
    print("\n" + "\n".join(f"{name}: data {notes[name]}" for name in results))
    return ok


if __name__ == "__main__":
    sys.exit(main())

"""The mixed load of tests/resilience/test_load.py, timed, on SQLite and on PostgreSQL.

    make bench            (or: .venv/bin/python bench/load.py --help)

For each database: a fresh database with its own data (tests/resilience/mix.py), gunicorn with
4 sync workers, then 8 signed-in clients (3 trainers, 5 learners) for 30 s: trainers send
roll-call marks through the sync API (one per request) and view pages, learners answer and
submit quiz attempts, download their certificate PDF and view pages. Then a bare Flask "hello"
page (bench/reference_app.py) under the same gunicorn settings and the same 8 clients. Prints
requests/s and p50/p95/p99 latency per request type and database, and the ratio to the
reference. PostgreSQL: the server in BENCH_DATABASE_URL, else one started with
scripts/pg_server.sh on BENCH_PG_PORT (default 54351) and stopped afterwards.

Not a test: figures depend on the machine. It exits non-zero when a write was lost or doubled
or a request failed.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))

from tests.resilience import mix  # noqa: E402 - after the path is set

KINDS = ["page", "attendance mark", "quiz answer", "quiz start", "quiz submit", "certificate PDF"]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def reference_load(port: int, clients: int, seconds: float) -> mix.Ledger:
    ledger = mix.Ledger()
    stop_at = time.monotonic() + seconds

    def client():
        browser = mix.Browser(port)
        while time.monotonic() < stop_at:
            ledger.timed("hello", lambda: browser.get("/hello"))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger.wall = time.perf_counter() - began
    return ledger


def akademia(url: str, folder: Path, args) -> tuple[mix.Ledger, dict]:
    began = time.perf_counter()
    world = mix.build_world(url, folder)
    print(f"  data ready in {time.perf_counter() - began:.1f} s", flush=True)
    with mix.Server(
        "wsgi:app", world.env(), folder / "gunicorn.log", workers=args.workers
    ) as server:
        server.wait_ready()
        ledger = mix.run_mix(server.port, world, args.seconds)
    return ledger, mix.check(url, ledger)


def print_table(results: dict[str, mix.Ledger], reference: mix.Ledger) -> None:
    print()
    header = f"{'':26}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    for name, ledger in results.items():
        print(f"{name}: {ledger.requests} requests in {ledger.wall:.1f} s")
        print(header)
        for kind in [*KINDS, "all"]:
            values = (
                [v for vs in ledger.latencies.values() for v in vs]
                if kind == "all"
                else ledger.latencies.get(kind, [])
            )
            print(
                f"  {kind:24}{len(values):>9}{len(values) / ledger.wall:>8.1f}"
                f"{percentile(values, 50):>9.1f}{percentile(values, 95):>9.1f}"
                f"{percentile(values, 99):>9.1f}"
            )
    hello = reference.latencies["hello"]
    print(f"reference: bare Flask 'hello' page, {len(hello)} requests in {reference.wall:.1f} s")
    print(header)
    print(
        f"  {'hello':24}{len(hello):>9}{len(hello) / reference.wall:>8.1f}"
        f"{percentile(hello, 50):>9.1f}{percentile(hello, 95):>9.1f}{percentile(hello, 99):>9.1f}"
    )
    for name, ledger in results.items():
        everything = [v for vs in ledger.latencies.values() for v in vs]
        rate = (ledger.requests / ledger.wall) / (len(hello) / reference.wall)
        p50 = percentile(everything, 50) / percentile(hello, 50)
        print(f"ratio {name} / hello: throughput {rate:.3f}×, p50 latency {p50:.1f}×")


def pg_server(*args: str) -> str:
    command = ["bash", str(ROOT / "scripts/pg_server.sh"), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="akademia-load-"))
    pg_dir = folder / "pg"
    started_pg = False
    results: dict[str, mix.Ledger] = {}
    problems: dict[str, dict] = {}
    try:
        if args.only != "postgresql":
            print("SQLite", flush=True)
            ledger, problems["SQLite"] = akademia(
                f"sqlite:///{folder / 'akademia.db'}", folder / "sqlite", args
            )
            results["Akademia on SQLite"] = ledger
        if args.only != "sqlite":
            print("PostgreSQL", flush=True)
            server_url = os.environ.get("BENCH_DATABASE_URL")
            if not server_url:
                port = os.environ.get("BENCH_PG_PORT", "54351")
                server_url = pg_server("start", str(pg_dir), port)
                started_pg = True
            name = f"akademia_load_{secrets.token_hex(4)}"
            url = mix.create_postgres_database(server_url, name)
            try:
                ledger, problems["PostgreSQL"] = akademia(url, folder / "postgresql", args)
            finally:
                mix.drop_postgres_database(server_url, name)
            results["Akademia on PostgreSQL"] = ledger
        print("reference", flush=True)
        with mix.Server(
            "reference_app:app",
            {"PYTHONPATH": str(ROOT / "bench")},
            folder / "gunicorn-reference.log",
            workers=args.workers,
        ) as server:
            server.wait_ready("/hello")
            reference = reference_load(server.port, 8, args.seconds)
        print_table(results, reference)
        for name, found in problems.items():
            for problem, items in found.items():
                print(f"{name}: {problem}: {len(items)}, e.g. {items[:3]}")
        return 1 if any(problems.values()) or reference.failures else 0
    finally:
        if started_pg:
            pg_server("stop", str(pg_dir))
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

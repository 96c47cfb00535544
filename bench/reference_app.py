"""The references for the HTTP benchmarks: a bare Flask endpoint inserting into a bare table
(bench/attendance_http.py) and a bare "hello" page (bench/load.py).

No sign-in, no CSRF, no ORM, no permission checks: the floor that the real sync API is
compared with. Same SQLite settings as Akademia (WAL, BEGIN IMMEDIATE, busy timeout).
Served by gunicorn: REFERENCE_DB names the SQLite file.
"""

import os
import sqlite3

from flask import Flask, g, jsonify, request

app = Flask(__name__)
DB = os.environ.get("REFERENCE_DB", "reference.db")
SCHEMA = """
CREATE TABLE IF NOT EXISTS mark (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    marked_at TEXT
)
"""


def connection() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(DB, isolation_level=None, timeout=10)
        g.db.execute("PRAGMA journal_mode=WAL")
        g.db.execute("PRAGMA synchronous=NORMAL")
    return g.db


@app.teardown_appcontext
def close(_error):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@app.post("/marks")
def marks():
    db = connection()
    results = []
    db.execute("BEGIN IMMEDIATE")
    for mark in request.get_json()["marks"]:
        inserted = db.execute(
            "INSERT INTO mark (client_id, session_id, person_id, status, marked_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING RETURNING id",
            (
                mark["client_id"],
                mark["session_id"],
                mark["person_id"],
                mark["status"],
                mark.get("marked_at"),
            ),
        ).fetchone()
        results.append({"client_id": mark["client_id"], "ok": True, "duplicate": inserted is None})
    db.execute("COMMIT")
    return jsonify(results=results)


@app.get("/hello")
def hello():
    # bench/load.py's reference: a page with no database, no session, no template.
    return "Hello"


@app.get("/ready")
def ready():
    return "ok"


def create_schema(path: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(SCHEMA)

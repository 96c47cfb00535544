"""SQLite: a snapshot through the online backup API, and a restore by renaming a checked
copy over the database file."""

import os
import secrets
import shutil
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from app.files import fsync_dir

from .archive import BackupError

# Left out when deciding whether a database is empty: a migrated, unused database holds it.
BOOKKEEPING = {"alembic_version"}


def database_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"Backups need a SQLite database file, not {url.database!r}.")
    return Path(url.database).resolve()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def row_counts(conn: sqlite3.Connection) -> list[dict]:
    # One count per table: bounded by the schema, not by the data.
    return [
        {
            "schema": None,
            "name": name,
            "rows": conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0],  # noqa: S608 - a quoted table name
        }
        for name in _tables(conn)
    ]


def revision(conn: sqlite3.Connection) -> str | None:
    if "alembic_version" not in _tables(conn):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def snapshot(source: Path, target: Path) -> dict:
    """Copy the live database into target and describe the copy (tables, revision)."""
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(target)
            try:
                # pages=-1 copies everything in one step, under one read transaction of the
                # source: a consistent snapshot however many others write meanwhile (WAL
                # lets them go on; they are not blocked by the copy).
                src.backup(dst, pages=-1)
                # One self-contained file: no write-ahead log beside it in the archive.
                dst.execute("PRAGMA journal_mode=DELETE")
                problems = _problems(dst)
                if problems:
                    raise BackupError(
                        "The database fails SQLite's integrity check; no backup was written: "
                        + "; ".join(problems[:5])
                    )
                info = {
                    "tables": row_counts(dst),
                    "revision": revision(dst),
                    "sqlite_version": sqlite3.sqlite_version,
                }
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as error:
        raise BackupError(f"Copying the SQLite database failed: {error}.") from None
    return info


def _problems(conn: sqlite3.Connection) -> list[str]:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
    problems += [
        f"row {rowid} of {table} refers to a missing row of {parent}"
        for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check")
    ]
    return problems


def tables_with_rows(path: Path) -> list[tuple[str, int]]:
    """The tables (other than Alembic's) that hold rows; none if there is no database."""
    if not path.is_file():
        return []
    conn = sqlite3.connect(path, timeout=10)
    try:
        return [
            (t["name"], t["rows"])
            for t in row_counts(conn)
            if t["rows"] and t["name"] not in BOOKKEEPING
        ]
    finally:
        conn.close()


def check_copy(path: Path, tables: list[dict]) -> None:
    """Integrity, foreign keys and the manifest's row counts, on the copy to be restored."""
    conn = sqlite3.connect(path)
    try:
        problems = _problems(conn)
        counts = {t["name"]: t["rows"] for t in row_counts(conn)}
    finally:
        conn.close()
    expected = {t["name"]: t["rows"] for t in tables}
    if counts != expected:
        differ = sorted(n for n in set(counts) | set(expected) if counts.get(n) != expected.get(n))
        problems.append("row counts differ from the manifest in: " + ", ".join(differ[:10]))
    if problems:
        raise BackupError(
            "The database in the backup fails its checks; nothing was changed: "
            + "; ".join(problems[:5])
        )


def restore(staged: Path, target: Path) -> None:
    """Rename the checked copy over the database file. The old file's write-ahead log is
    folded in and removed first: left beside the new file, SQLite would replay it into it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(staged, "rb") as src, open(temporary, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        old = None
        if target.exists():
            old = sqlite3.connect(target, timeout=5, isolation_level=None)
            try:
                mode = old.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
                # Held until the rename: nobody writes to the old file in between.
                old.execute("BEGIN EXCLUSIVE")
            except sqlite3.OperationalError:
                mode = None
            if mode != "delete":
                old.close()
                raise BackupError(
                    f"The database {target} is in use. Stop the app and the task-queue "
                    "consumer, then restore again; nothing was changed."
                )
        try:
            os.replace(temporary, target)
        finally:
            if old is not None:
                old.close()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    fsync_dir(target.parent)

"""PostgreSQL: pg_dump inside an exported snapshot (so the row counts in the manifest are of
exactly the dumped data), and a restore that replaces the schema's objects in one
transaction with psql, checking the row counts before it commits."""

import glob
import os
import re
import shutil
import signal
import subprocess  # noqa: S404 - runs the PostgreSQL client tools with argument lists
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .archive import BackupError

TOOL_FOLDERS = "/usr/lib/postgresql/*/bin"  # Debian's layout, as scripts/pg_server.sh uses
# A restore waits this long for a lock before it gives up (the app is still running).
LOCK_TIMEOUT = "10s"
BOOKKEEPING = {"alembic_version"}


@dataclass(frozen=True)
class Tool:
    path: str
    major: int
    version: str


def _version(path: str) -> Tool | None:
    try:
        out = subprocess.run(  # noqa: S603 - a fixed argument list
            [path, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return Tool(path, int(match.group(1)), out) if match else None


def find_tool(name: str, server_major: int, at_least: int = 0) -> Tool:
    """The client tool of the server's major version if installed, else the oldest newer
    one: an older pg_dump refuses a newer server, and a newer one may write SQL an older
    server does not know."""
    candidates = []
    for folder in sorted(glob.glob(TOOL_FOLDERS)):
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK) and (tool := _version(path)):
            candidates.append(tool)
    on_path = shutil.which(name)
    if on_path and (tool := _version(on_path)):
        candidates.append(tool)
    usable = sorted(
        (t for t in candidates if t.major >= max(server_major, at_least)), key=lambda t: t.major
    )
    exact = [t for t in usable if t.major == server_major]
    if exact or usable:
        return (exact or usable)[0]
    found = ", ".join(sorted({t.version for t in candidates})) or "none"
    raise BackupError(
        f"{name} {max(server_major, at_least)} or newer is needed for this PostgreSQL "
        f"{server_major} server (found: {found}). Install the matching client, e.g. "
        f"`apt-get install postgresql-client-{server_major}`."
    )


def libpq(url: sa.URL) -> tuple[str, dict]:
    """The address for the client tools, and an environment carrying the password (never
    on the command line, where other users of the machine would see it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None)
    return address.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict, what: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603
    except OSError as error:
        raise BackupError(f"{what} could not run: {error}.") from None
    if result.returncode < 0:
        raise BackupError(f"{what} was stopped by {signal.Signals(-result.returncode).name}.")
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BackupError(f"{what} failed: {' '.join(detail) or result.returncode}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(schema: str, name: str) -> str:
    return f"{_quote(schema)}.{_quote(name)}"


def _tables(conn: sa.Connection) -> list[tuple[str, str]]:
    return [
        tuple(row)
        for row in conn.execute(
            sa.text(
                "SELECT n.nspname, c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg\\_%' "
                # tables an extension made are the extension's to recreate
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') "
                "ORDER BY 1, 2"
            )
        )
    ]


def row_counts(conn: sa.Connection) -> list[dict]:
    # One count per table: bounded by the schema, not by the data.
    return [
        {
            "schema": schema,
            "name": name,
            "rows": conn.scalar(sa.text(f"SELECT count(*) FROM {_qualified(schema, name)}")),  # noqa: S608
        }
        for schema, name in _tables(conn)
    ]


def revision(conn: sa.Connection) -> str | None:
    if not conn.scalar(sa.text("SELECT to_regclass('alembic_version') IS NOT NULL")):
        return None
    return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))


def server_major(conn: sa.Connection) -> int:
    return conn.dialect.server_version_info[0]


def snapshot(engine: sa.Engine, target: Path) -> dict:
    """pg_dump (custom format) into target, with the row counts of the very data dumped."""
    url, env = libpq(engine.url)
    with engine.connect() as conn:
        major = server_major(conn)
        pg_dump = find_tool("pg_dump", major)
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump reads the snapshot this transaction exports; it stays valid while the
            # transaction is open, so the counts below and the dump see the same rows.
            snapshot_id = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            info = {
                "tables": row_counts(conn),
                "revision": revision(conn),
                "server_version": ".".join(map(str, conn.dialect.server_version_info)),
                "dump_tool": pg_dump.version,
                "dump_major": pg_dump.major,
            }
            _run(
                [
                    pg_dump.path,
                    "--format=custom",
                    # the archive is compressed as a whole
                    "--compress=0",
                    f"--snapshot={snapshot_id}",
                    f"--file={target}",
                    f"--dbname={url}",
                ],
                env,
                "pg_dump",
            )
    return info


def tables_with_rows(engine: sa.Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        found = []
        for schema, name in _tables(conn):
            if name in BOOKKEEPING:
                continue
            # EXISTS stops at the first row: cheap on any size of table.
            if conn.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM {_qualified(schema, name)})")):  # noqa: S608
                found.append((f"{schema}.{name}", 1))
        return found


def _drop_statements(conn: sa.Connection) -> list[str]:
    """DROP … for the objects of the target's schemas: the restore replaces them all, also
    those the backup does not have (a table a later migration added)."""
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    kinds["f"] = "FOREIGN TABLE"
    statements = []
    for schema, name, kind in conn.execute(
        sa.text(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('v', 'm', 'r', 'p', 'f', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_%' "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') "
            "ORDER BY position(c.relkind IN 'vmrpfS'), 1, 2"
        )
    ):
        statements.append(f"DROP {kinds[kind]} IF EXISTS {_qualified(schema, name)} CASCADE;")
    for schema, name in conn.execute(
        sa.text(
            "SELECT n.nspname, t.typname FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typtype IN ('e', 'd') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_%' "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e') "
            "ORDER BY 1, 2"
        )
    ):
        statements.append(f"DROP TYPE IF EXISTS {_qualified(schema, name)} CASCADE;")
    return statements


def _count_checks(tables: list[dict]) -> str:
    """A DO block that fails (and so rolls the whole restore back) unless every table
    holds the manifest's number of rows."""
    lines = ["DO $check$", "DECLARE n bigint;", "BEGIN"]
    for table in tables:
        name = _qualified(table["schema"] or "public", table["name"])
        # a literal in RAISE's format string: quotes doubled, % escaped
        label = name.replace("'", "''").replace("%", "%%")
        rows = int(table["rows"])
        lines.append(f"  SELECT count(*) INTO n FROM {name};")  # noqa: S608 - a quoted name
        lines.append(
            f"  IF n <> {rows} THEN RAISE EXCEPTION "
            f"'row count check: % rows in {label}, the manifest says {rows}', n; END IF;"
        )
    lines += ["END", "$check$;"]
    return "\n".join(lines) + "\n"


def restore(engine: sa.Engine, dump: Path, tables: list[dict], dump_major: int, work: Path):
    """Replace the database's contents with the dump's, in one transaction: on any error
    (a lock held by the running app, a row count that differs) nothing changes."""
    url, env = libpq(engine.url)
    with engine.connect() as conn:
        major = server_major(conn)
        drops = _drop_statements(conn)
    engine.dispose()
    pg_restore = find_tool("pg_restore", major, at_least=dump_major)
    psql = find_tool("psql", major)
    script = work / "restore.sql"
    _run(
        [pg_restore.path, "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
        env,
        "pg_restore",
    )
    before = work / "drop.sql"
    before.write_text("\n".join(drops) + "\n")
    after = work / "check.sql"
    after.write_text(_count_checks(tables))
    env["PGOPTIONS"] = f"-c lock_timeout={LOCK_TIMEOUT}"
    try:
        _run(
            [
                psql.path,
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                f"--file={before}",
                f"--file={script}",
                f"--file={after}",
                f"--dbname={url}",
            ],
            env,
            "psql",
        )
    except BackupError as error:
        hint = ""
        if "lock timeout" in error.message:
            hint = " Stop the app and the task-queue consumer, then restore again."
        raise BackupError(f"{error.message}. Nothing was changed.{hint}") from None

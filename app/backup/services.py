"""Make a backup archive, and restore one after checking it whole (run inside an app context)."""

import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app

from app.extensions import db
from app.files import fsync_dir

from . import files, postgres, sqlite
from .archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    DamagedArchive,
    add_bytes,
    add_file,
    extract_verified,
    manifest_bytes,
)

DEFAULT_FOLDER = "backups"  # <instance>/backups
NAME_FORMAT = "akademia-%Y%m%d-%H%M%S.tar.gz"  # UTC
DATABASE_MEMBERS = {"sqlite": "database/akademia.sqlite3", "postgresql": "database/akademia.pgdump"}


@dataclass
class BackupReport:
    path: Path
    size: int
    kind: str
    tables: int
    rows: int
    files: int
    revision: str | None
    warnings: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    kind: str
    tables: int
    rows: int
    files_written: int
    files_unchanged: int
    files_removed: int
    revision: str | None
    notes: list[str] = field(default_factory=list)


def _kind() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_MEMBERS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def default_path(now: datetime) -> Path:
    return Path(current_app.instance_path, DEFAULT_FOLDER, now.strftime(NAME_FORMAT))


def target_path(output: Path | None, now: datetime) -> Path:
    """--output may name the archive or a folder to put the usual name in."""
    if output is None:
        return default_path(now)
    if output.is_dir() or str(output).endswith(os.sep):
        return output / now.strftime(NAME_FORMAT)
    return output


def _key_warnings() -> list[str]:
    warnings = []
    if current_app.config.get("CERT_SIGNING_KEY"):
        warnings.append(
            "The certificate signing key comes from CERT_SIGNING_KEY and is not in the "
            "backup: keep that setting safe too, or issued certificates cannot be verified."
        )
    secret_file = Path(current_app.instance_path, "secret_key")
    if not secret_file.is_file():
        warnings.append("SECRET_KEY comes from the environment and is not in the backup.")
    return warnings


def create_backup(output: Path | None = None, *, now: datetime | None = None) -> BackupReport:
    """Write one archive of the database and the instance files. It is built in a hidden
    work folder beside the target and renamed into place only when complete and flushed."""
    now = now or datetime.now(UTC)
    kind = _kind()
    target = target_path(output, now).absolute()
    if target.exists():
        raise BackupError(f"{target} exists already; choose another --output.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
    except OSError as error:
        raise BackupError(f"Cannot write in {target.parent}: {error.strerror or error}.") from None
    try:
        return _write_backup(kind, target, work, now)
    except BackupError as error:
        raise BackupError(
            f"{error.message}{_space(target.parent)} No backup was written."
        ) from None
    except OSError as error:
        raise BackupError(
            f"Writing the backup into {target.parent} failed: {error.strerror or error}."
            f"{_space(target.parent)} No backup was written."
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _space(folder: Path) -> str:
    """How much room the folder has left, said after a failure (a full disk is the usual one)."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    return f" ({free / 1024**2:,.0f} MB free in {folder})"


def _write_backup(kind: str, target: Path, work: Path, now: datetime) -> BackupReport:
    database_file = work / "database"
    skip = {target.parent.resolve(), work.resolve()}
    if kind == "sqlite":
        source = sqlite.database_path(db.engine.url)
        skip |= {Path(f"{source}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")}
        info = sqlite.snapshot(source, database_file)
        database = {"kind": kind, "sqlite_version": info["sqlite_version"]}
    else:
        info = postgres.snapshot(db.engine, database_file)
        database = {
            "kind": kind,
            "format": "pg_dump custom",
            "server_version": info["server_version"],
            "dump_tool": info["dump_tool"],
            "dump_major": info["dump_major"],
        }
    database["file"] = DATABASE_MEMBERS[kind]
    members = files.collect(skip)
    partial = work / "archive.tar.gz"
    checksums = {}
    # The archive holds the signing key and personal data: readable by its owner only.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            checksums[database["file"]] = add_file(tar, database["file"], database_file)
            for name, path in members:
                try:
                    checksums[name] = add_file(tar, name, path)
                except FileNotFoundError:
                    continue  # deleted since it was listed: it is simply not in this backup
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": now.isoformat(timespec="seconds"),
                "app_revision": info["revision"],
                "database": database,
                "tables": info["tables"],
                "files": checksums,
            }
            add_bytes(tar, MANIFEST, manifest_bytes(manifest))
        raw.flush()
        os.fsync(raw.fileno())
    if target.exists():
        raise BackupError(f"{target} appeared while the backup was written; it is left as it was.")
    os.replace(partial, target)
    fsync_dir(target.parent)
    return BackupReport(
        path=target,
        size=target.stat().st_size,
        kind=kind,
        tables=len(info["tables"]),
        rows=sum(t["rows"] for t in info["tables"]),
        files=len(checksums) - 1,
        revision=info["revision"],
        warnings=_key_warnings(),
    )


def _revision_notes(revision: str | None) -> list[str]:
    """Refuse a database from a newer version of the app; tell how to bring an older one up."""
    if revision is None:
        return [
            "The backup's database has no migration revision (it was not made by `flask db upgrade`)."
        ]
    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"The backup's database is at migration {revision}, which this version of Akademia "
            "does not know: it was made by a newer version. Restore it with that version; "
            "nothing was changed."
        )
    heads = set(scripts.get_heads())
    if revision not in heads:
        return [f"The database is at migration {revision}: run `flask db upgrade` now."]
    return []


def _verified(archive: Path, work: Path):
    try:
        return extract_verified(archive, work)
    except DamagedArchive as error:
        raise DamagedArchive(
            f"{archive} is damaged: {error.message}. It was refused; nothing was changed."
        ) from None


def restore_backup(archive: Path, *, replace: bool = False) -> RestoreReport:
    """Check the archive whole, then replace the database and the instance files with its
    contents. Without `replace`, refuses a database that holds data."""
    kind = _kind()
    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".restore-", dir=current_app.instance_path))
    try:
        manifest, unpacked = _verified(archive, work / "unpacked")
        backup_kind = manifest["database"]["kind"]
        if backup_kind != kind:
            raise BackupError(
                f"This is a {backup_kind} backup and this installation uses {kind}: a restore "
                f"goes into the same kind of database (restoring across kinds is not supported). "
                "Nothing was changed."
            )
        notes = _revision_notes(manifest.get("app_revision"))
        all_areas = {area.name: area for area in files.areas()}
        placements = {}
        for name, (path, mode) in unpacked.items():
            if name == manifest["database"]["file"]:
                continue
            dest = files.destination(all_areas, name)
            if dest is None:
                raise DamagedArchive(f"{archive} holds {name!r}, which a restore cannot place.")
            placements[name] = (path, mode, dest)
        _refuse_overwrite(kind, replace)
        database_file = unpacked[manifest["database"]["file"]][0]
        tables = manifest["tables"]
        if kind == "sqlite":
            sqlite.check_copy(database_file, tables)
            db.session.remove()
            db.engine.dispose()
            sqlite.restore(database_file, sqlite.database_path(db.engine.url))
        else:
            db.session.remove()
            postgres.restore(
                db.engine, database_file, tables, manifest["database"].get("dump_major", 0), work
            )
        written, unchanged, removed = _restore_files(all_areas, placements)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreReport(
        kind=kind,
        tables=len(tables),
        rows=sum(t["rows"] for t in tables),
        files_written=written,
        files_unchanged=unchanged,
        files_removed=removed,
        revision=manifest.get("app_revision"),
        notes=notes,
    )


def _refuse_overwrite(kind: str, replace: bool) -> None:
    if replace:
        return
    if kind == "sqlite":
        holding = sqlite.tables_with_rows(sqlite.database_path(db.engine.url))
    else:
        holding = postgres.tables_with_rows(db.engine)
    if holding:
        names = ", ".join(name for name, _rows in holding[:5])
        more = f" and {len(holding) - 5} more" if len(holding) > 5 else ""
        raise BackupError(
            f"The database holds data (in {names}{more}). A restore replaces all of it: "
            "run again with --yes to do so. Nothing was changed."
        )


def _restore_files(all_areas: dict, placements: dict) -> tuple[int, int, int]:
    written = unchanged = 0
    for source, mode, dest in placements.values():
        if files.same_content(dest, source):
            if dest.stat().st_mode & 0o777 != mode:
                dest.chmod(mode)
            unchanged += 1
            continue
        files.place(source, dest, mode)
        written += 1
    keep = {dest.resolve() for _source, _mode, dest in placements.values()}
    removed = 0
    for area in all_areas.values():
        if not area.mirror:
            continue
        for _rel, path in files.area_files(area, set()):
            if path.resolve() not in keep:
                path.unlink(missing_ok=True)
                removed += 1
    return written, unchanged, removed

"""The files a backup holds besides the database, grouped in areas, and how a restore puts
them back.

An area is a place the app reads files from. Areas are named rather than stored by absolute
path, so a backup restores into an installation whose folders are elsewhere (another
instance folder, another CERT_STORAGE_DIR).
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import current_app

from app.certificates import signing, storage
from app.certificates.render import LOGO_FOLDER
from app.files import write_atomic_from

# Left out of the backup (and left alone by a restore), with the reason:
EXCLUDED = {
    # earlier backups: a backup holding the backups before it would grow every night
    "backups",
    # spreadsheets uploaded for a preview and waiting for a confirmation: deleted on use or
    # within the hour, and the browser session that refers to them does not survive a restore
    "imports",
    # copies of the mail the development mail backend "sent": nothing reads them back
    "outbox",
    # the task queue (SQLite storage) and its log: queued tasks name database rows, and
    # after a restore they would act on rows of another time; `flask certificates sweep`
    # finishes whatever the restored database holds as pending
    "huey.sqlite",
    "huey.sqlite-wal",
    "huey.sqlite-shm",
    "huey.sqlite-journal",
    "huey.log",
}
# Half-written files: storage.write_atomic's temporary names, and our own work folders.
TEMPORARY_SUFFIXES = (".tmp", ".partial")
TEMPORARY_PREFIXES = (".restore-",)
SIGNING_KEY_MEMBER = "key.pem"


@dataclass(frozen=True)
class Area:
    name: str
    path: Path
    single_file: bool = False
    # The restore removes the area's files that the backup does not hold: a certificate
    # PDF issued after the backup would otherwise sit under a number the restored database
    # hands out again.
    mirror: bool = False


def areas() -> list[Area]:
    """Where this installation keeps the files a backup holds."""
    instance = Path(current_app.instance_path)
    return [
        Area("signing-key", signing.key_path(current_app), single_file=True),
        Area("certificates", storage.storage_dir(), mirror=True),
        Area("logos", instance / LOGO_FOLDER, mirror=True),
        Area("instance", instance),
    ]


def _temporary(name: str) -> bool:
    return name.endswith(TEMPORARY_SUFFIXES) or name.startswith(TEMPORARY_PREFIXES)


def area_files(area: Area, skip: set[Path]) -> list[tuple[str, Path]]:
    """(path inside the area, file) for every regular file of the area, sorted; symbolic
    links are not followed (a link out of the folder is not the app's file)."""
    if area.single_file:
        if area.path.is_file() and not area.path.is_symlink():
            return [(SIGNING_KEY_MEMBER, area.path)]
        return []
    if not area.path.is_dir():
        return []
    found = []
    for folder, dirs, names in os.walk(area.path):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not _temporary(d)
            and (here / d).resolve() not in skip
            and not (area.name == "instance" and here == area.path and d in EXCLUDED)
        )
        for name in sorted(names):
            path = here / name
            if _temporary(name) or path.is_symlink() or not path.is_file():
                continue
            if area.name == "instance" and here == area.path and name in EXCLUDED:
                continue
            if path.resolve() in skip:
                continue
            found.append((path.relative_to(area.path).as_posix(), path))
    return found


def collect(skip: set[Path]) -> list[tuple[str, Path]]:
    """(archive member name, file) for every file to back up. `skip` holds resolved paths
    that belong elsewhere: the database files and the backup's own folder."""
    all_areas = areas()
    # The instance area holds what the other areas do not: their folders may lie inside it.
    others = {area.path.resolve() for area in all_areas if area.name != "instance"}
    members = []
    for area in all_areas:
        area_skip = skip | (others if area.name == "instance" else set())
        members += [(f"files/{area.name}/{rel}", path) for rel, path in area_files(area, area_skip)]
    return members


def destination(all_areas: dict[str, Area], member: str) -> Path | None:
    """Where a member named files/<area>/<path> goes in this installation; None if the
    name is not one a backup writes (an unknown area, an absolute path, a '..')."""
    parts = PurePosixPath(member).parts
    if len(parts) < 3 or parts[0] != "files" or parts[1] not in all_areas:
        return None
    rel = parts[2:]
    if any(p in ("", ".", "..") or "\\" in p for p in rel) or member.startswith("/"):
        return None
    area = all_areas[parts[1]]
    if area.single_file:
        return area.path if rel == (SIGNING_KEY_MEMBER,) else None
    return area.path.joinpath(*rel)


def same_content(path: Path, source: Path) -> bool:
    if not path.is_file() or path.stat().st_size != source.stat().st_size:
        return False
    with open(path, "rb") as a, open(source, "rb") as b:
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def place(source: Path, target: Path, mode: int) -> None:
    """Put the file at target whole or not at all."""
    with open(source, "rb") as src:
        write_atomic_from(target, lambda dst: shutil.copyfileobj(src, dst, 1 << 20), mode=mode)

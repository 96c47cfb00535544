"""The archive itself: writing members with their checksums, and reading one back only after
every byte has been checked against the manifest."""

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import time
import zlib
from pathlib import Path, PurePosixPath

FORMAT = "akademia-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("sqlite", "postgresql")
CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DamagedArchive(BackupError):
    """The archive is unreadable, incomplete, or does not match its manifest."""


class _Hashing:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def add_file(tar: tarfile.TarFile, name: str, path: Path) -> dict:
    """Add the file as it is when opened (a file replaced meanwhile stays the one we opened);
    its manifest entry."""
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size = stat.st_size
        info.mtime = int(stat.st_mtime)
        info.mode = stat.st_mode & 0o777
        reader = _Hashing(handle)
        tar.addfile(info, reader)
    return {"sha256": reader.digest.hexdigest(), "size": info.size}


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not path.is_absolute()
        and "\\" not in name
        and all(part not in ("", ".", "..") for part in path.parts)
        and (name == MANIFEST or len(path.parts) >= 2)
    )


def extract_verified(archive: Path, into: Path) -> tuple[dict, dict[str, tuple[Path, int]]]:
    """Unpack the archive into `into` and check it whole: every member named in the
    manifest, none other, each with its size and sha256. Returns the manifest and, per
    member, the unpacked file and its mode. Raises DamagedArchive."""
    found: dict[str, tuple[Path, int, str, int]] = {}
    manifest_data = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                if not member.isfile() or not _safe_name(name) or name in found:
                    raise DamagedArchive(f"unexpected entry {name!r}")
                source = tar.extractfile(member)
                if name == MANIFEST:
                    manifest_data = source.read(16 * CHUNK)
                    continue
                target = into.joinpath(*PurePosixPath(name).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                size = 0
                with open(target, "wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                found[name] = (target, member.mode & 0o777, digest.hexdigest(), size)
            # tarfile stops quietly at a header it cannot read; reading the compressed
            # stream to its end makes gzip check its CRC and length.
            while tar.fileobj.read(CHUNK):
                pass
    except FileNotFoundError:
        raise BackupError(f"There is no file {archive}.") from None
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise DamagedArchive(f"the archive cannot be read ({error})") from None
    except OSError as error:
        raise BackupError(f"Unpacking {archive} failed: {error}. Nothing was changed.") from None
    if manifest_data is None:
        raise DamagedArchive("it ends early or has no manifest.json")
    manifest = parse_manifest(manifest_data)
    listed = manifest["files"]
    if set(listed) != set(found):
        missing = sorted(set(listed) - set(found))
        extra = sorted(set(found) - set(listed))
        raise DamagedArchive(
            f"its contents differ from the manifest (missing: {missing[:5]}, extra: {extra[:5]})"
        )
    for name, (_path, _mode, sha256, size) in found.items():
        if listed[name]["sha256"] != sha256 or listed[name]["size"] != size:
            raise DamagedArchive(f"{name} does not match its checksum in the manifest")
    return manifest, {name: (path, mode) for name, (path, mode, _s, _n) in found.items()}


def parse_manifest(data: bytes) -> dict:
    """The manifest, checked for the fields a restore relies on."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DamagedArchive("manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DamagedArchive("it is not an Akademia backup")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupError(
            f"This backup has format version {version!r}; this version of Akademia reads "
            f"version {FORMAT_VERSION}. Restore it with the Akademia version that made it."
        )
    database = manifest.get("database")
    files = manifest.get("files")
    tables = manifest.get("tables")
    problems = []
    if not isinstance(database, dict) or database.get("kind") not in KINDS:
        problems.append("database kind")
    if not isinstance(files, dict) or not all(
        isinstance(v, dict)
        and isinstance(v.get("sha256"), str)
        and _SHA256.fullmatch(v["sha256"])
        and isinstance(v.get("size"), int)
        for v in files.values()
    ):
        problems.append("file checksums")
    elif isinstance(database, dict) and database.get("file") not in files:
        problems.append("database file")
    if not isinstance(tables, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("name"), str)
        and isinstance(t.get("schema"), str | None)
        and isinstance(t.get("rows"), int)
        and t["rows"] >= 0
        for t in tables
    ):
        problems.append("row counts")
    if problems:
        raise DamagedArchive(f"its manifest lacks valid: {', '.join(problems)}")
    return manifest

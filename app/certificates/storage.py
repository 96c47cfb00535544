"""Where certificate PDFs and bulk bundles live, and the one way they are written.

A file is written to a temporary name beside its final one, flushed to disk, renamed over
the final name and the folder flushed too: a reader (or a crash) sees the old file or the
whole new one, never a part.
"""

import os
import secrets
from pathlib import Path

from flask import current_app

FOLDER = "certificates"


def storage_dir() -> Path:
    configured = current_app.config.get("CERT_STORAGE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path, FOLDER)


def certificate_file(file_name: str) -> Path:
    return storage_dir() / file_name


def bundle_file(name: str) -> Path:
    return storage_dir() / "bundles" / name


def write_atomic(path: Path, data: bytes) -> None:
    write_atomic_from(path, lambda handle: handle.write(data))


def write_atomic_from(path: Path, produce) -> None:
    """Like write_atomic, for large outputs: produce(handle) writes into the temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            produce(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

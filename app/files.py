"""The one way files that matter are written (certificate PDFs, bundles, restored files).

A file is written to a temporary name beside its final one, flushed to disk, renamed over
the final name and the folder flushed too: a reader (or a crash, or a full disk) sees the
old file or the whole new one, never a part.
"""

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic_from(
    path: Path, produce: Callable[[BinaryIO], object], mode: int | None = None
) -> None:
    """produce(handle) writes the content into the temporary file; mode, if given, is set
    before the file appears under its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            produce(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

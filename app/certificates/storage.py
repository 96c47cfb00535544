"""Where certificate PDFs and bulk bundles live; they are written whole or not at all
(app/files.py)."""

from pathlib import Path

from flask import current_app

from app.files import write_atomic_from

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

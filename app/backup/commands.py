"""`flask backup` and `flask restore` (docs/backup.md)."""

from pathlib import Path

import click
from flask import Flask


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option(
        "--output",
        type=click.Path(path_type=Path),
        default=None,
        help="Archive to write, or a folder for akademia-YYYYmmdd-HHMMSS.tar.gz "
        "(default: <instance>/backups/).",
    )
    def backup_command(output):
        """Write one consistent backup archive of the database and the instance files."""
        from .archive import BackupError
        from .services import create_backup

        try:
            report = create_backup(output)
        except BackupError as error:
            raise click.ClickException(error.message) from None
        click.echo(
            f"{report.path} ({_size(report.size)}): {report.kind} database at migration "
            f"{report.revision or 'none'}, {report.tables} tables, {report.rows} rows, "
            f"{report.files} files"
        )
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)

    @app.cli.command("restore")
    @click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Replace a database that holds data.")
    def restore_command(archive, yes):
        """Check a backup archive, then restore its database and instance files."""
        from .archive import BackupError
        from .services import restore_backup

        try:
            report = restore_backup(archive, replace=yes)
        except BackupError as error:
            raise click.ClickException(error.message) from None
        click.echo(
            f"Restored {archive}: {report.kind} database at migration "
            f"{report.revision or 'none'}, {report.tables} tables and {report.rows} rows "
            f"(row counts checked); files: {report.files_written} written, "
            f"{report.files_unchanged} unchanged, {report.files_removed} removed"
        )
        for note in report.notes:
            click.echo(note)

"""`flask privacy retention [--dry-run]`."""

import click
from flask import Flask

from app.timeutil import utcnow


def register(app: Flask) -> None:
    @app.cli.group()
    def privacy():
        """Personal data: retention."""

    @privacy.command("retention")
    @click.option("--dry-run", is_flag=True, help="List who is due without changing anything.")
    @click.option(
        "--months", type=int, default=None, help="Override RETENTION_MONTHS_AFTER_PROGRAMME."
    )
    def retention_command(dry_run, months):
        """Anonymise participants whose programmes all ended longer ago than the retention period."""
        from .retention import run_retention

        if months is not None and months < 1:
            raise click.BadParameter("must be at least 1", param_hint="--months")
        result = run_retention(today=utcnow().date(), months=months, dry_run=dry_run)
        ids = ", ".join(f"#{i}" for i in result.person_ids) or "nobody"
        click.echo(
            f"Retention period: {result.months} months; programmes that ended before "
            f"{result.cutoff.isoformat()}."
        )
        if dry_run:
            click.echo(f"Would anonymise {len(result.person_ids)} people: {ids}")
            click.echo("dry run: nothing was changed")
            return
        click.echo(f"Anonymised {len(result.person_ids)} people: {ids}")
        click.echo(f"Deleted {result.files_deleted} files")
        if result.failed:
            failed = ", ".join(f"#{i}" for i in result.failed)
            raise click.ClickException(f"{len(result.failed)} could not be anonymised: {failed}")

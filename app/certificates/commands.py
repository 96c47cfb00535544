"""`flask certificates …`: verify offline, issue for a run, finish what crashed workers left."""

import sys
from pathlib import Path

import click
from flask import Flask

from app.extensions import db


def register(app: Flask) -> None:
    @app.cli.group()
    def certificates():
        """Certificates: issue, verify, recover."""

    @certificates.command("verify")
    @click.argument("payload")
    @click.option(
        "--key",
        "key_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Public key (PEM) to check against; default: this installation's.",
    )
    def verify_command(payload, key_file):
        """Check a QR code's signed payload (or its whole address) offline."""
        from . import signing
        from .verify_cli import check

        pem = (
            key_file.read_bytes() if key_file else signing.public_pem(signing.public_key()).encode()
        )
        status, message = check(payload, pem)
        click.echo(message, err=status != 0)
        sys.exit(status)

    @certificates.command("issue")
    @click.argument("run_id", type=int)
    @click.option("--background", is_flag=True, help="Queue a bulk job for the consumer.")
    @click.option("--format", "output_format", type=click.Choice(["zip", "pdf"]), default="zip")
    def issue_command(run_id, background, output_format):
        """Issue every certificate due in a run (here, or as a background bulk job)."""
        from app.courses.models import CourseRun
        from app.errors import DomainError

        from . import pipeline, services
        from .models import JobFormat

        run = db.session.get(CourseRun, run_id)
        if run is None:
            raise click.ClickException(f"No course run {run_id}.")
        if background:
            try:
                job, created = services.start_job(
                    run, by=None, output_format=JobFormat(output_format)
                )
            except DomainError as error:
                raise click.ClickException(error.message) from None
            db.session.commit()
            click.echo(f"job {job.id} {'queued' if created else 'already under way'}")
            return
        done = pipeline.issue_run_now(run)
        click.echo(f"{done} certificate(s) issued")

    @certificates.command("sweep")
    def sweep_command():
        """Complete certificates and jobs that a killed worker left unfinished."""
        from . import pipeline

        done = pipeline.sweep_certificates()
        jobs = pipeline.stale_job_ids(pipeline.utcnow())
        for job_id in jobs:
            pipeline.run_job(job_id)
        click.echo(f"{done} certificate(s) completed, {len(jobs)} job(s) resumed")

    @certificates.command("public-key")
    def public_key_command():
        """Print the public key verifiers need (PEM)."""
        from . import signing

        click.echo(signing.public_pem(signing.public_key()), nl=False)

"""Command-line tasks: reference data, curriculum sync, demo data, accounts."""

from pathlib import Path

import click
from flask import Flask, current_app

from .extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.group()
    def places():
        """Kosovo's regions and municipalities."""

    @places.command("seed")
    def seed_places_command():
        """Load or refresh the 7 regions and 38 municipalities."""
        from .places.services import seed_places

        regions, municipalities = seed_places()
        db.session.commit()
        click.echo(f"{regions} regions, {municipalities} municipalities")

    @app.cli.group()
    def curriculum():
        """Course content kept as files."""

    @curriculum.command("sync")
    @click.option(
        "--path", type=click.Path(path_type=Path), default=None, help="Curriculum folder."
    )
    @click.option("--dry-run", is_flag=True, help="Validate and report without saving.")
    def sync_command(path, dry_run):
        """Validate curriculum files and question banks, then upsert them by slug."""
        from .courses.curriculum import CurriculumError, load_curriculum, sync_curriculum
        from .quizzes.banks import load_banks, sync_banks

        root = path or Path(current_app.config["CURRICULUM_DIR"])
        try:
            specs = load_curriculum(root)
            # Every bank is validated before anything is written: one bad question stops all.
            banks = load_banks(root, {spec.slug for spec in specs})
            report = sync_curriculum(specs)
            bank_lines = sync_banks(banks)
        except CurriculumError as error:
            db.session.rollback()
            for problem in error.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(
                f"{len(error.problems)} problem(s); nothing was changed"
            ) from None
        for line in report.lines() + bank_lines:
            click.echo(line)
        if dry_run:
            db.session.rollback()
            click.echo("dry run: nothing was saved")
        else:
            db.session.commit()

    @app.cli.group()
    def demo():
        """Demonstration data."""

    @demo.command("load")
    def demo_load_command():
        """Load realistic demo data (idempotent) and print the demo sign-ins."""
        from .demo import DEMO_PASSWORD, load_demo

        logins = load_demo()
        db.session.commit()
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for role, email in logins:
            click.echo(f"  {role:<18} {email}")

    @app.cli.group()
    def users():
        """Accounts."""

    @users.command("create-admin")
    @click.argument("email")
    @click.option("--first-name", default="Admin")
    @click.option("--last-name", default="Akademia")
    @click.password_option()
    def create_admin_command(email, first_name, last_name, password):
        """Create an administrator (or give an existing account the role)."""
        from .admin.services import create_admin
        from .errors import DomainError

        try:
            create_admin(email=email, first_name=first_name, last_name=last_name, password=password)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(f"{email} is an administrator")

    @users.command("reset-two-factor")
    @click.argument("email")
    def reset_two_factor_command(email):
        """Remove an account's second factor (lost phone, no administrator left to do it)."""
        from .auth import two_factor
        from .auth.services import find_user_by_email

        user = find_user_by_email(email)
        if user is None:
            raise click.ClickException(f"No account has the e-mail {email}")
        ended = two_factor.reset(user=user, by=None)
        db.session.commit()
        click.echo(
            f"Two-step sign-in of {email} is reset ({ended} sessions ended); "
            "it is set up again at the next sign-in."
        )

    # Certificates: `flask certificates verify|issue|sweep|public-key` (app/certificates/commands.py)
    from .certificates.commands import register as register_certificates

    register_certificates(app)

    # Backups: `flask backup`, `flask restore` (app/backup/commands.py)
    from .backup.commands import register as register_backup

    register_backup(app)

    # Personal data: `flask privacy retention [--dry-run]` (app/privacy/commands.py)
    from .privacy.commands import register as register_privacy

    register_privacy(app)

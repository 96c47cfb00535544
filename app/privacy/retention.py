"""The retention run: anonymise participants whose programmes all ended long ago.

Used by `flask privacy retention` and the daily Huey task. Each person is erased and
committed on their own, so a failure halfway keeps what was done and the next run resumes.
"""

import logging
from dataclasses import dataclass, field
from datetime import date

from flask import current_app

from app.extensions import db
from app.people.models import Person
from app.timeutil import utcnow

from . import services
from .models import ErasureKind

log = logging.getLogger(__name__)


@dataclass
class RetentionResult:
    cutoff: date
    months: int
    person_ids: list[int]  # due (dry run) or anonymised
    dry_run: bool
    files_deleted: int = 0
    failed: list[int] = field(default_factory=list)


def run_retention(
    *, today: date, months: int | None = None, dry_run: bool = False
) -> RetentionResult:
    """Anonymise (or, dry run, list) the people past the retention period."""
    months = (
        months if months is not None else current_app.config["RETENTION_MONTHS_AFTER_PROGRAMME"]
    )
    cutoff = services.retention_cutoff(today, months)
    due = list(db.session.scalars(services.retention_due(today, months)))
    result = RetentionResult(cutoff=cutoff, months=months, person_ids=due, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        return result
    done = []
    for person_id in due:
        person = db.session.get(Person, person_id)
        try:
            erasure = services.erase_person(
                person=person,
                by=None,
                reason=(
                    f"Retention: every programme of this person ended before {cutoff.isoformat()} "
                    f"(RETENTION_MONTHS_AFTER_PROGRAMME={months})."
                ),
                now=utcnow(),
                kind=ErasureKind.RETENTION,
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("Retention: person %s could not be anonymised", person_id)
            result.failed.append(person_id)
            continue
        done.append(person_id)
        result.files_deleted += services.delete_files(erasure.files)
    # PDFs an earlier erasure could not delete (the process stopped after its commit).
    result.files_deleted += services.delete_files(services.erased_certificate_files())
    db.session.rollback()
    result.person_ids = done
    return result

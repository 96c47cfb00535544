"""The daily retention run for the Huey consumer (registered in app/tasks.py)."""

import logging

from huey import crontab

from app.queue import huey, task_context
from app.timeutil import utcnow

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(hour="3", minute="41"))
def retention_task() -> int:
    """Anonymise the participants past RETENTION_MONTHS_AFTER_PROGRAMME; returns how many."""
    from .retention import run_retention

    with task_context():
        result = run_retention(today=utcnow().date())
    log.info(
        "Retention: %d people anonymised (programmes ended before %s), %d files deleted, %d failed",
        len(result.person_ids),
        result.cutoff,
        result.files_deleted,
        len(result.failed),
    )
    return len(result.person_ids)

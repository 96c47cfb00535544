"""Background work for certificates, run by the Huey consumer (app/queue.py).

- complete_run_task: render the pending certificates of a run (queued by
  services.issue_due_certificates and reissue once their transaction commits);
- run_job_task: a manager's bulk issuance of a run, with its ZIP or merged PDF;
- sweep_task: finish what a killed worker left (stale pending certificates, stale jobs);
  the consumer runs it at start and every few minutes;
- periodic_issue_task: issue what is due in runs that ended lately, in case a hook was
  missed (e.g. marks imported by a path that does not call issue_due_certificates).
"""

import logging

from huey import crontab

from app.queue import huey, task_context

from . import pipeline

log = logging.getLogger(__name__)


@huey.task(retries=2, retry_delay=30)
def complete_run_task(run_id: int) -> int:
    with task_context():
        return pipeline.complete_run(run_id)


@huey.task()
def run_job_task(job_id: int) -> bool:
    with task_context():
        return pipeline.run_job(job_id)


@huey.task()
def sweep_task() -> int:
    with task_context():
        done = pipeline.sweep_certificates()
        jobs = pipeline.stale_job_ids(pipeline.utcnow())
    for job_id in jobs:
        log.info("Resuming certificate job %s", job_id)
        run_job_task(job_id)
    return done


@huey.periodic_task(crontab(minute="*/5"))
def periodic_sweep_task() -> None:
    sweep_task()


@huey.periodic_task(crontab(minute="17"))
def periodic_issue_task() -> int:
    with task_context():
        return pipeline.issue_due_recent()


@huey.on_startup()
def resume_on_startup() -> None:
    # A consumer that starts may follow one that was killed: pick up what it left.
    sweep_task()

"""Crash-safe issuance: claim, render, write, commit, each step repeatable.

Unlike services, this module owns its transactions: it runs in the queue's worker, in CLI
commands and (tests) in immediate mode, and commits after every step, so a crash loses at
most the step under way:

1. claim (services.claim_due_certificates): number, code, snapshot, signature, status
   pending; commit. Verification never shows a pending certificate.
2. take the certificate's lease (UPDATE … WHERE pending AND lease free); commit.
3. render the PDF; write it to a temporary file, fsync, rename over the final name, fsync
   the folder.
4. mark it valid and record the issuance; commit.

Killed after 1–2 the certificate stays pending, and the sweeper or a re-run completes it
once the lease has expired; killed after 3 the file is whole and rendering again replaces
it whole; killed during 4 nothing was committed. The unique number and the partial unique
index (one current certificate per learner and run) make a duplicate impossible, whatever
runs twice.
"""

import logging
import re
import time
import unicodedata
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.courses.models import CourseRun
from app.extensions import db
from app.people.models import Person
from app.timeutil import utcnow

from . import render, services, storage
from .models import Certificate, CertificateJob, CertificateStatus, EventKind, JobFormat, JobStatus
from .rules import local_today

log = logging.getLogger(__name__)

RECENT_DAYS = 90  # the periodic task looks for due certificates in runs that ended this recently
WAIT_STEP = 0.5


def lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("CERT_LEASE_SECONDS", 120))


def grace() -> timedelta:
    """How long fresh work is left to the task that was queued for it before the sweeper acts."""
    return min(lease(), timedelta(seconds=30))


def values_of(certificate: Certificate) -> dict:
    """What rendering needs, as plain values, so no transaction stays open while it renders."""
    return {
        "id": certificate.id,
        "number": certificate.number,
        "code": certificate.code,
        "language": certificate.language.value,
        "token": certificate.token,
        "snapshot": certificate.snapshot,
        "file_name": certificate.file_name,
        "requested_by_id": certificate.requested_by_id,
    }


# --- One certificate ------------------------------------------------------------------------


def take_certificate(certificate_id: int, now: datetime) -> bool:
    table = Certificate.__table__
    result = db.session.execute(
        sa.update(table)
        .where(
            table.c.id == certificate_id,
            table.c.status == CertificateStatus.PENDING,
            sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now),
        )
        .values(lease_until=now + lease())
    )
    db.session.commit()
    return result.rowcount == 1


def write_pdf(values: dict) -> Path:
    pdf = render.certificate_pdf(values)
    path = storage.certificate_file(values["file_name"])
    storage.write_atomic(path, pdf)
    return path


def finalise(values: dict, now: datetime) -> bool:
    table = Certificate.__table__
    result = db.session.execute(
        sa.update(table)
        .where(table.c.id == values["id"], table.c.status == CertificateStatus.PENDING)
        .values(status=CertificateStatus.VALID, issued_at=now, lease_until=None)
    )
    done = result.rowcount == 1
    if done:
        services.record(
            values["id"], EventKind.ISSUED, by_id=values["requested_by_id"], now=now, note=None
        )
    db.session.commit()
    return done


def complete_certificate(certificate_id: int, *, now: datetime | None = None) -> bool:
    """Render, write and validate one pending certificate; False if it is not pending or
    another worker holds it."""
    if not take_certificate(certificate_id, now or utcnow()):
        return False
    values = values_of(db.session.get(Certificate, certificate_id))
    db.session.commit()  # no transaction (nor SQLite write lock) held while rendering
    write_pdf(values)
    return finalise(values, utcnow())


def ensure_file(certificate: Certificate) -> Path:
    """The certificate's PDF, rendered again from its snapshot if the file went missing."""
    path = storage.certificate_file(certificate.file_name)
    if not path.is_file():
        log.warning("Certificate %s: file missing, rendering it again", certificate.number)
        write_pdf(values_of(certificate))
    return path


def pending_ids(run_id: int | None = None, created_before: datetime | None = None) -> list[int]:
    query = sa.select(Certificate.id).where(Certificate.status == CertificateStatus.PENDING)
    if run_id is not None:
        query = query.where(Certificate.run_id == run_id)
    if created_before is not None:
        query = query.where(Certificate.created_at < created_before)
    ids = list(db.session.scalars(query.order_by(Certificate.id)))
    db.session.commit()
    return ids


def complete_run(run_id: int) -> int:
    """Complete the run's pending certificates that nobody else holds; how many were done."""
    return sum(complete_certificate(cid) for cid in pending_ids(run_id))


def issue_run_now(run: CourseRun, *, by=None, now: datetime | None = None) -> int:
    """Claim what is due in a run and complete it, in this process (CLI, periodic task)."""
    services.claim_due_certificates(run, now=now, by=by)
    db.session.commit()
    return complete_run(run.id)


# --- Bulk jobs ------------------------------------------------------------------------------


def take_job(job_id: int, now: datetime) -> bool:
    table = CertificateJob.__table__
    result = db.session.execute(
        sa.update(table)
        .where(
            table.c.id == job_id,
            sa.or_(
                table.c.status == JobStatus.QUEUED,
                sa.and_(
                    table.c.status == JobStatus.RUNNING,
                    sa.or_(table.c.heartbeat_at.is_(None), table.c.heartbeat_at < now - lease()),
                ),
            ),
        )
        .values(
            status=JobStatus.RUNNING,
            heartbeat_at=now,
            started_at=sa.func.coalesce(table.c.started_at, now),
            attempts=table.c.attempts + 1,
        )
    )
    db.session.commit()
    return result.rowcount == 1


def _count(run_id: int, *statuses: CertificateStatus) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Certificate.id)).where(
            Certificate.run_id == run_id, Certificate.status.in_(statuses)
        )
    )


def _update_job(job_id: int, **values) -> None:
    # A transaction of its own that starts with its write (the values were read before):
    # on SQLite a read transaction that turns into a write can fail instead of waiting.
    db.session.commit()
    table = CertificateJob.__table__
    db.session.execute(sa.update(table).where(table.c.id == job_id).values(**values))
    db.session.commit()


def _heartbeat(job_id: int, run_id: int) -> None:
    _update_job(job_id, done=_count(run_id, CertificateStatus.VALID), heartbeat_at=utcnow())


def run_job(job_id: int, *, now: datetime | None = None) -> bool:
    """Issue everything due in the job's run, then bundle the run's valid certificates.

    Safe to run again after a crash: what is valid stays, what is pending gets completed.
    False when another worker is running the job.
    """
    now = now or utcnow()
    if not take_job(job_id, now):
        return False
    try:
        job = db.session.get(CertificateJob, job_id)
        run_id, output_format = job.run_id, job.output_format
        services.claim_due_certificates(job.run, now=now, by=job.requested_by)
        db.session.commit()
        total = _count(run_id, CertificateStatus.PENDING, CertificateStatus.VALID)
        _update_job(job_id, total=total, done=_count(run_id, CertificateStatus.VALID))
        _complete_all(job_id, run_id)
        name = build_bundle(job_id, run_id, output_format)
        _update_job(
            job_id,
            status=JobStatus.DONE,
            output_name=name,
            done=_count(run_id, CertificateStatus.VALID),
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
        )
    except Exception as error:
        db.session.rollback()
        log.exception("Certificate job %s failed", job_id)
        _update_job(job_id, status=JobStatus.FAILED, error=str(error)[:500], finished_at=utcnow())
        raise
    return True


def _complete_all(job_id: int, run_id: int) -> None:
    """Complete every pending certificate of the run, waiting (with heartbeats) for the ones
    another worker holds until their lease runs out."""
    deadline = time.monotonic() + lease().total_seconds() + 10
    while ids := pending_ids(run_id):
        progressed = False
        for cid in ids:
            if complete_certificate(cid):
                progressed = True
            _heartbeat(job_id, run_id)
        if not progressed:
            if time.monotonic() > deadline:
                raise RuntimeError("Some certificates stayed held by another worker.")
            time.sleep(WAIT_STEP)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("đ", "dj").replace("Đ", "Dj"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-")[:60]


def bundle_certificates(run_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Person, Person.id == Certificate.person_id)
            .where(Certificate.run_id == run_id, Certificate.status == CertificateStatus.VALID)
            .order_by(Person.last_name, Person.first_name, Certificate.id)
        )
    )


def build_bundle(job_id: int, run_id: int, output_format: JobFormat) -> str:
    """One ZIP (a PDF per learner) or one merged PDF of the run's valid certificates."""
    certificates = bundle_certificates(run_id)
    files = [(c.number, c.snapshot["name"], ensure_file(c)) for c in certificates]
    code = db.session.scalar(sa.select(CourseRun).where(CourseRun.id == run_id)).course.code
    db.session.commit()
    name = f"certificates-{_ascii(code)}-run{run_id}-job{job_id}.{output_format.value}"

    def write_zip(handle):
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
            for number, person, path in files:
                archive.write(path, arcname=f"{number}-{_ascii(person)}.pdf")

    def write_pdf_bundle(handle):
        from pypdf import PdfWriter

        writer = PdfWriter()
        for _number, _person, path in files:
            writer.append(str(path))
        writer.add_metadata({"/Title": f"Certificates {code}", "/Producer": "Akademia"})
        writer.write(handle)

    produce = write_zip if output_format == JobFormat.ZIP else write_pdf_bundle
    storage.write_atomic_from(storage.bundle_file(name), produce)
    return name


# --- Sweeping up after crashes, and the periodic check --------------------------------------


def stale_job_ids(now: datetime) -> list[int]:
    ids = list(
        db.session.scalars(
            sa.select(CertificateJob.id).where(
                sa.or_(
                    sa.and_(
                        CertificateJob.status == JobStatus.QUEUED,
                        CertificateJob.created_at < now - grace(),
                    ),
                    sa.and_(
                        CertificateJob.status == JobStatus.RUNNING,
                        sa.or_(
                            CertificateJob.heartbeat_at.is_(None),
                            CertificateJob.heartbeat_at < now - lease(),
                        ),
                    ),
                )
            )
        )
    )
    db.session.commit()
    return ids


def sweep_certificates(now: datetime | None = None) -> int:
    """Complete pending certificates left behind (their task lost, or their worker killed)."""
    now = now or utcnow()
    return sum(complete_certificate(cid) for cid in pending_ids(created_before=now - grace()))


def recent_runs(now: datetime) -> list[CourseRun]:
    today = local_today(now)
    runs = list(
        db.session.scalars(
            sa.select(CourseRun)
            .where(
                CourseRun.ends_on <= today,
                CourseRun.ends_on >= today - timedelta(days=RECENT_DAYS),
            )
            .order_by(CourseRun.id)
        )
    )
    return runs


def issue_due_recent(now: datetime | None = None) -> int:
    """Issue what is due in every run that ended lately: the safety net behind the hooks."""
    now = now or utcnow()
    issued = 0
    for run in recent_runs(now):
        issued += issue_run_now(run, now=now)
    return issued

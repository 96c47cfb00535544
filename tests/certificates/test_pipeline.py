"""Crash safety in process: a failure at each step of issuance leaves a complete certificate
or nothing visible, and a re-run completes the rest exactly once."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import files
from app.certificates import pipeline, queries, render, services, storage
from app.certificates.models import Certificate, CertificateJob, CertificateStatus, JobStatus
from app.extensions import db
from app.timeutil import utcnow
from tests.certificates.helpers import finished_run


class Crash(Exception):
    pass


def _statuses(run_id):
    db.session.expire_all()
    return sorted(c.status.value for c in queries.of_run(run_id))


def _claim(n=2):
    world = finished_run(n)
    ids = [c.id for c in services.claim_due_certificates(world.run)]
    db.session.commit()
    return world, ids


def _later():
    """A moment after every lease has run out."""
    return utcnow() + pipeline.lease() + timedelta(seconds=1)


@pytest.mark.parametrize("step", ["render", "write", "rename", "commit"])
def test_a_crash_at_any_step_leaves_nothing_visible_and_a_rerun_completes(
    app, client, monkeypatch, step
):
    world, (first, second) = _claim()
    targets = {
        "render": (render, "certificate_pdf"),
        "write": (storage, "write_atomic"),
        "rename": (files.os, "replace"),
        "commit": (pipeline, "finalise"),
    }
    module, name = targets[step]

    def crash(*args, **kwargs):
        raise Crash(step)

    with monkeypatch.context() as patch:
        patch.setattr(module, name, crash)
        with pytest.raises(Crash):
            pipeline.complete_certificate(first)
    db.session.rollback()
    certificate = db.session.get(Certificate, first)
    assert certificate.status == CertificateStatus.PENDING
    # Verification shows nothing for a certificate that is not complete.
    assert client.get(f"/verify/{certificate.code}").status_code == 404
    assert client.get(f"/verify/{certificate.code}.json").status_code == 404
    leftovers = list(storage.storage_dir().rglob("*.tmp"))
    assert leftovers == []
    # Held by the crashed worker's lease until it runs out; then a re-run completes it.
    assert pipeline.complete_certificate(first) is False
    assert pipeline.complete_certificate(first, now=_later()) is True
    assert pipeline.complete_certificate(first, now=_later()) is False
    assert pipeline.complete_certificate(second) is True
    assert _statuses(world.run.id) == ["valid", "valid"]
    certificate = db.session.get(Certificate, first)
    assert storage.certificate_file(certificate.file_name).read_bytes().startswith(b"%PDF")
    assert client.get(f"/verify/{certificate.code}").status_code == 200


def test_sweep_completes_pending_certificates_left_behind(app, monkeypatch):
    world, ids = _claim(3)
    db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id.in_(ids))
        .values(created_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    assert pipeline.sweep_certificates() == 3
    assert _statuses(world.run.id) == ["valid"] * 3
    assert pipeline.sweep_certificates() == 0


def test_job_resumes_after_a_crash_and_issues_each_certificate_once(app, monkeypatch):
    monkeypatch.setitem(app.config, "CERT_LEASE_SECONDS", 1)
    world = finished_run(4)
    job, _created = services.start_job(world.run, by=world.manager, output_format="zip")
    # Keep the queue from running it at commit: this test runs it by hand.
    db.session.info.pop("certificates_after_commit")
    db.session.commit()
    calls = {"n": 0}
    original = storage.write_atomic

    def crash_on_third(path, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash("killed while writing")
        original(path, data)

    with monkeypatch.context() as patch:
        patch.setattr(storage, "write_atomic", crash_on_third)
        with pytest.raises(Crash):
            pipeline.run_job(job.id)
    db.session.rollback()
    job = db.session.get(CertificateJob, job.id)
    assert job.status == JobStatus.FAILED  # an exception (a kill leaves it running, see below)
    assert _statuses(world.run.id) == ["pending", "pending", "valid", "valid"]
    # Started again (a new job, or the sweeper), everything is completed exactly once.
    db.session.execute(
        sa.update(CertificateJob).where(CertificateJob.id == job.id).values(status=JobStatus.QUEUED)
    )
    db.session.commit()
    time.sleep(1.1)  # the crashed worker's lease on the third certificate runs out
    assert pipeline.run_job(job.id) is True
    job = db.session.get(CertificateJob, job.id)
    assert (job.status, job.total, job.done) == (JobStatus.DONE, 4, 4)
    assert _statuses(world.run.id) == ["valid"] * 4
    numbers = [c.number for c in queries.of_run(world.run.id)]
    assert len(set(numbers)) == 4
    assert storage.bundle_file(job.output_name).is_file()


def test_a_running_job_with_a_fresh_heartbeat_is_not_taken_twice(app):
    world = finished_run(1)
    job, _ = services.start_job(world.run, by=world.manager, output_format="zip")
    db.session.info.pop("certificates_after_commit")
    db.session.commit()
    assert pipeline.take_job(job.id, utcnow()) is True
    assert pipeline.take_job(job.id, utcnow()) is False
    assert pipeline.stale_job_ids(utcnow()) == []
    assert pipeline.stale_job_ids(_later()) == [job.id]
    assert pipeline.take_job(job.id, _later()) is True


def test_missing_file_is_rendered_again_from_the_snapshot(app):
    world, (first, _second) = _claim()
    pipeline.complete_run(world.run.id)
    certificate = db.session.get(Certificate, first)
    path = storage.certificate_file(certificate.file_name)
    path.unlink()
    assert pipeline.ensure_file(certificate) == path and path.is_file()

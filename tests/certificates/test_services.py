"""Issuance, the hook after commit, revocation and re-issue."""

import re

import pytest
import sqlalchemy as sa

from app.certificates import pipeline, queries, services, signing, storage
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateKind,
    CertificateLanguage,
    CertificateStatus,
    EventKind,
    JobFormat,
)
from app.errors import DomainError
from app.extensions import db
from tests.certificates.helpers import finished_run


def _certificates(run_id):
    db.session.expire_all()
    return queries.of_run(run_id)


def test_issue_due_certificates_claims_then_completes_after_commit(app):
    world = finished_run(2)
    claimed = services.issue_due_certificates(world.run)
    assert [c.status for c in claimed] == [CertificateStatus.PENDING] * 2
    assert {c.person_id for c in claimed} == {p.id for p in world.people}
    db.session.commit()  # the queue (immediate mode in tests) renders them now
    certificates = _certificates(world.run.id)
    assert [c.status for c in certificates] == [CertificateStatus.VALID] * 2
    for certificate in certificates:
        assert re.fullmatch(r"AK-\d{4}-\d{6}", certificate.number)
        assert storage.certificate_file(certificate.file_name).read_bytes().startswith(b"%PDF")
        events = queries.events_of(certificate.id)
        assert [(e.kind, e.user_id) for e in events] == [(EventKind.ISSUED, None)]


def test_issue_due_certificates_is_undone_by_a_rollback(app):
    world = finished_run(1)
    services.issue_due_certificates(world.run)
    db.session.rollback()
    assert _certificates(world.run.id) == []
    assert not db.session.info.get("certificates_after_commit")


def test_issuing_twice_gives_one_certificate_per_learner(app):
    world = finished_run(2)
    services.issue_due_certificates(world.run)
    db.session.commit()
    assert services.issue_due_certificates(world.run) == []
    assert pipeline.issue_run_now(world.run) == 0
    assert len(_certificates(world.run.id)) == 2


def test_a_second_current_certificate_is_refused_by_the_database(app):
    world = finished_run(1)
    (first,) = services.claim_due_certificates(world.run)
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        services.claim(
            run=world.run,
            person=world.people[0],
            kind=CertificateKind.ATTENDANCE,
            language=CertificateLanguage.EN,
            by=None,
            now=first.created_at,
        )
    db.session.rollback()


def test_numbers_follow_each_other_within_a_year(app):
    world = finished_run(3)
    claimed = services.claim_due_certificates(world.run)
    serials = [int(c.number.rsplit("-", 1)[1]) for c in claimed]
    assert serials == list(range(serials[0], serials[0] + 3))
    assert len({c.code for c in claimed}) == 3


def test_snapshot_keeps_what_was_true_at_issue(app):
    world = finished_run(1)
    (certificate,) = services.claim_due_certificates(world.run, by=world.manager)
    db.session.commit()
    person = world.people[0]
    snap = certificate.snapshot
    assert snap["name"] == person.full_name
    assert snap["course"]["titles"]["sq"] == "Të dhënat e hapura për komunat"
    assert snap["course"]["hours"] == 12
    assert [c["code"] for c in snap["competences"]] == ["1.1", "4.2"]
    assert (
        snap["competences"][1]["labels"]["sq"]
        == "Mbrojtja e të dhënave personale dhe e privatësisë"
    )
    assert snap["trainers"] == ["Besnik Gashi"]
    assert snap["programme"]["donor"] == "Demo Donor"
    # The host depends on where the app runs (SERVER_NAME, or the live server in browser tests).
    assert snap["verify_url"].endswith(f"/verify/{certificate.code}")
    person.first_name = "Changed"
    db.session.commit()
    assert db.session.get(Certificate, certificate.id).snapshot["name"] != person.full_name


def test_signed_payload_verifies_with_the_public_key(app):
    world = finished_run(1)
    (certificate,) = services.claim_due_certificates(world.run)
    payload = signing.verify(certificate.token, signing.public_key())
    assert payload["no"] == certificate.number
    assert payload["code"] == certificate.code
    assert payload["name"] == world.people[0].full_name
    assert payload["kid"] == certificate.key_id == signing.key_id(signing.public_key())


def test_revoke_records_who_and_why(app):
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    (certificate,) = _certificates(world.run.id)
    services.revoke(certificate, by=world.manager, reason="Attendance sheet was forged")
    db.session.commit()
    certificate = db.session.get(Certificate, certificate.id)
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_reason == "Attendance sheet was forged"
    event = queries.events_of(certificate.id)[-1]
    assert (event.kind, event.user_id) == (EventKind.REVOKED, world.manager.id)
    with pytest.raises(DomainError, match="already revoked"):
        services.revoke(certificate, by=world.manager, reason="again")


def test_revoke_needs_a_reason(app):
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    (certificate,) = _certificates(world.run.id)
    with pytest.raises(DomainError) as error:
        services.revoke(certificate, by=world.manager, reason="  ")
    assert error.value.field == "reason"


def test_a_revoked_learner_gets_no_new_certificate_automatically(app):
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    (certificate,) = _certificates(world.run.id)
    services.revoke(certificate, by=world.manager, reason="Fraud")
    db.session.commit()
    assert services.issue_due_certificates(world.run) == []


def test_reissue_after_a_name_correction(app):
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    (old,) = _certificates(world.run.id)
    person = world.people[0]
    person.last_name = "Çeku-Đorđević-Berisha"
    db.session.flush()
    new = services.reissue(old, by=world.manager, reason="Name corrected")
    db.session.commit()
    old, new = db.session.get(Certificate, old.id), db.session.get(Certificate, new.id)
    assert old.status == CertificateStatus.SUPERSEDED and old.superseded_at is not None
    assert new.status == CertificateStatus.VALID  # rendered after the commit
    assert new.replaces_id == old.id and new.number != old.number and new.code != old.code
    assert new.snapshot["name"] == "Arbëresha Çeku-Đorđević-Berisha"
    assert [e.kind for e in queries.events_of(old.id)] == [EventKind.ISSUED, EventKind.SUPERSEDED]
    assert [e.kind for e in queries.events_of(new.id)] == [EventKind.REISSUED, EventKind.ISSUED]
    issued = db.session.scalars(
        sa.select(CertificateEvent).where(
            CertificateEvent.certificate_id == new.id, CertificateEvent.kind == EventKind.ISSUED
        )
    ).one()
    assert issued.user_id == world.manager.id


def test_only_a_valid_certificate_can_be_reissued(app):
    world = finished_run(1)
    (pending,) = services.claim_due_certificates(world.run)
    with pytest.raises(DomainError, match="Only a valid certificate"):
        services.reissue(pending, by=world.manager, reason="x")


def test_record_downloads_keeps_who_and_when(app):
    world = finished_run(1)
    pipeline.issue_run_now(world.run)
    (certificate,) = _certificates(world.run.id)
    services.record_downloads([certificate.id], by_id=world.manager.id)
    db.session.commit()
    event = queries.events_of(certificate.id)[-1]
    assert event.kind == EventKind.DOWNLOADED and event.user_id == world.manager.id


def test_start_job_refuses_when_nobody_meets_the_rule(app):
    world = finished_run(1, sessions=4, attended=1)
    with pytest.raises(DomainError, match="Nobody in this run meets the rule"):
        services.start_job(world.run, by=world.manager, output_format=JobFormat.ZIP)


def test_save_rule_checks_the_percentage(app):
    world = finished_run(1)
    with pytest.raises(DomainError) as error:
        services.save_rule(
            world.run,
            kind=CertificateKind.COMPLETION,
            min_attendance=120,
            require_post_test=False,
            require_survey=False,
            language=CertificateLanguage.EN,
            by=None,
        )
    assert error.value.field == "min_attendance"

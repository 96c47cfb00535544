"""Pages: public verification, offline check, a learner's certificates, a manager's tools."""

import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.auth.models import User
from app.auth.roles import Role
from app.certificates import pipeline, queries, services, signing
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateJob,
    CertificateKind,
    CertificateLanguage,
    CertificateRule,
    CertificateStatus,
    EventKind,
    JobStatus,
)
from app.extensions import db
from tests.certificates.helpers import finished_run
from tests.conftest import create_programme, create_user, login


def _issued(n=2, **values):
    world = finished_run(n, **values)
    pipeline.issue_run_now(world.run)
    db.session.expire_all()
    return world, queries.of_run(world.run.id)


def _learner_user(person):
    """An account for a learner who exists as a person."""
    from datetime import datetime

    from app.auth.models import UserRole
    from tests.conftest import _PASSWORD_HASH

    user = User(
        person=person, password_hash=_PASSWORD_HASH, email_confirmed_at=datetime(2026, 1, 1)
    )
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.commit()
    return user


# --- Public verification ----------------------------------------------------------------------


def test_verification_page_shows_only_what_a_verifier_needs(client):
    world, (certificate, _other) = _issued()
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Arbëresha Çeku-Đorđević" in page
    assert "Open data for municipalities" in page and certificate.number in page
    assert "Valid" in page
    assert world.people[0].email not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_verification_json(client):
    _world, (certificate, _other) = _issued()
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["status"] == "valid" and data["number"] == certificate.number
    assert data["name"] == "Arbëresha Çeku-Đorđević"
    assert set(data) <= {
        "status",
        "status_label",
        "number",
        "name",
        "course",
        "hours",
        "starts_on",
        "ends_on",
        "issued_on",
        "kind",
        "issuer",
        "programme",
        "revoked_on",
        "reason",
        "superseded_on",
    }


def test_wrong_pending_and_malformed_codes_all_look_the_same(client):
    world = finished_run(1)
    (pending,) = services.claim_due_certificates(world.run)
    db.session.commit()
    codes = (pending.code, "ABCDE-FGHJK-MNPQR-STVWX", "not-a-code", "AK-2026-000001")
    answers = [(code, client.get(f"/verify/{code}")) for code in codes]
    assert {r.status_code for _code, r in answers} == {404}
    # The same page whatever the code (but for the language switch's link back to it).
    assert len({r.get_data(as_text=True).replace(code, "") for code, r in answers}) == 1
    assert "Arbëresha" not in answers[0][1].get_data(as_text=True)
    assert client.get(f"/verify/{pending.code}.json").get_json() == {"status": "unknown"}


def test_typed_code_is_forgiven_and_redirected(client):
    _world, (certificate, _other) = _issued()
    typed = certificate.code.lower().replace("-", " ")
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{certificate.code}")
    again = client.get("/verify", query_string={"code": "nonsense"})
    assert again.status_code == 200 and "20 letters and digits" in again.get_data(as_text=True)


def test_revoked_certificate_says_so_with_date_and_reason(client):
    world, (certificate, _other) = _issued()
    services.revoke(certificate, by=world.manager, reason="Issued by mistake")
    db.session.commit()
    page = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Revoked" in page and "Issued by mistake" in page
    data = client.get(f"/verify/{certificate.code}.json").get_json()
    assert data["status"] == "revoked" and data["reason"] == "Issued by mistake"
    assert "revoked_on" in data


def test_superseded_certificate_names_nobody_and_points_nowhere(client):
    world, (old, _other) = _issued()
    new = services.reissue(old, by=world.manager, reason="Name corrected")
    db.session.commit()
    page = client.get(f"/verify/{old.code}").get_data(as_text=True)
    assert "Superseded" in page
    assert "Arbëresha" not in page and new.code not in page and new.number not in page
    data = client.get(f"/verify/{old.code}.json").get_json()
    assert data["status"] == "superseded" and "name" not in data


def test_verification_is_rate_limited(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "CERT_VERIFY_RATE_LIMIT", "3 per minute")
    codes = [f"ABCDE-FGHJK-MNPQR-STV{n:02d}" for n in range(5)]
    statuses = [client.get(f"/verify/{code}").status_code for code in codes]
    assert statuses == [404, 404, 404, 429, 429]


def test_public_key_is_published(client):
    pem = client.get("/certificates/public-key.pem")
    assert pem.status_code == 200 and b"BEGIN PUBLIC KEY" in pem.data
    jwk = client.get("/certificates/public-key.json").get_json()["keys"][0]
    assert jwk["crv"] == "Ed25519" and jwk["kid"] == signing.key_id(signing.public_key())


def test_offline_page_checks_a_pasted_payload_without_javascript(client):
    _world, (certificate, _other) = _issued()
    page = client.get("/verify/offline").get_data(as_text=True)
    assert signing.public_jwk(signing.public_key())["x"] in page  # the key travels with the page
    qr_text = f"{certificate.snapshot['verify_url']}#{certificate.token}"
    good = client.post("/verify/offline", data={"payload": qr_text}).get_data(as_text=True)
    assert 'data-result="valid"' in good and certificate.number in good
    body, signature = certificate.token.split(".")
    forged = client.post("/verify/offline", data={"payload": f"{body}.{signature[::-1]}"})
    assert 'data-result="invalid"' in forged.get_data(as_text=True)


# --- A learner's certificates -----------------------------------------------------------------


def test_learner_lists_and_downloads_their_own(client):
    world, (mine, theirs) = _issued()
    user = _learner_user(world.people[0])
    login(client, user)
    page = client.get("/certificates/mine").get_data(as_text=True)
    assert mine.number in page and theirs.number not in page
    response = client.get(f"/certificates/{mine.id}/download")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f"{mine.number}.pdf" in response.headers["Content-Disposition"]
    event = queries.events_of(mine.id)[-1]
    assert (event.kind, event.user_id) == (EventKind.DOWNLOADED, user.id)
    assert client.get(f"/certificates/{theirs.id}/download").status_code == 404
    assert client.get(f"/certificates/{theirs.id}").status_code == 404


def test_revoked_certificate_cannot_be_downloaded_by_its_holder(client):
    world, (mine, _theirs) = _issued()
    services.revoke(mine, by=world.manager, reason="Fraud")
    db.session.commit()
    login(client, _learner_user(world.people[0]))
    response = client.get(f"/certificates/{mine.id}/download")
    assert response.status_code == 302
    assert "cannot be downloaded" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_run_page_shows_what_is_missing_then_the_certificate(client):
    world = finished_run(2, sessions=4, attended=2)
    login(client, _learner_user(world.people[0]))
    page = client.get(f"/runs/{world.run.id}").get_data(as_text=True)
    assert "Still needed for your certificate" in page
    assert "Attendance is 50%; at least 80% of the sessions is needed." in page
    services.save_rule(
        world.run,
        kind=CertificateKind.ATTENDANCE,
        min_attendance=50,
        require_post_test=False,
        require_survey=False,
        language=CertificateLanguage.SQ_EN,
        by=None,
    )
    db.session.commit()
    pipeline.issue_run_now(world.run)
    page = client.get(f"/runs/{world.run.id}").get_data(as_text=True)
    assert "Download your certificate" in page


# --- Managers ---------------------------------------------------------------------------------


def test_manager_overview_and_permissions(client):
    world, certificates = _issued()
    login(client, world.manager)
    page = client.get(f"/runs/{world.run.id}/certificates").get_data(as_text=True)
    assert all(c.number in page for c in certificates)
    stranger = create_user(Role.MANAGER, programme=create_programme())
    other = client.__class__(client.application)
    login(other, stranger)
    assert other.get(f"/runs/{world.run.id}/certificates").status_code == 403
    assert other.get(f"/certificates/{certificates[0].id}/download").status_code == 404
    learner = client.__class__(client.application)
    login(learner, _learner_user(world.people[1]))
    assert learner.get(f"/runs/{world.run.id}/certificates").status_code == 403


def test_manager_edits_the_rule_and_due_certificates_are_issued(client):
    world = finished_run(2, sessions=4, attended=3)
    login(client, world.manager)
    assert client.get(f"/runs/{world.run.id}/certificates/rule").status_code == 200
    bad = client.post(
        f"/runs/{world.run.id}/certificates/rule",
        data={"kind": "attendance", "min_attendance": "150", "language": "sq+en"},
    )
    assert bad.status_code == 200 and "has-error" in bad.get_data(as_text=True)
    response = client.post(
        f"/runs/{world.run.id}/certificates/rule",
        data={"kind": "attendance", "min_attendance": "75", "language": "sr_Latn+en"},
        follow_redirects=True,
    )
    assert "2 certificates are being issued." in response.get_data(as_text=True)
    db.session.expire_all()
    rule = db.session.scalar(
        sa.select(CertificateRule).where(CertificateRule.run_id == world.run.id)
    )
    assert (rule.min_attendance, rule.language.value) == (75, "sr_Latn+en")
    assert [c.status for c in queries.of_run(world.run.id)] == [CertificateStatus.VALID] * 2


def test_manager_revokes_and_reissues_in_the_browser_forms(client):
    world, (certificate, _other) = _issued()
    login(client, world.manager)
    empty = client.post(f"/certificates/{certificate.id}/revoke", data={"revoke-reason": ""})
    assert empty.status_code == 200 and "has-error" in empty.get_data(as_text=True)
    response = client.post(
        f"/certificates/{certificate.id}/reissue", data={"reissue-reason": "Name corrected"}
    )
    assert response.status_code == 302
    new_id = int(re.search(r"/certificates/(\d+)$", response.headers["Location"]).group(1))
    response = client.post(f"/certificates/{new_id}/revoke", data={"revoke-reason": "Duplicate"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == CertificateStatus.SUPERSEDED
    assert db.session.get(Certificate, new_id).status == CertificateStatus.REVOKED
    history = client.get(f"/certificates/{new_id}").get_data(as_text=True)
    assert "Re-issued" in history and "Revoked" in history and "Duplicate" in history


@pytest.mark.parametrize("output_format", ["zip", "pdf"])
def test_bulk_job_issues_everyone_and_offers_one_file(client, output_format):
    world = finished_run(3)
    login(client, world.manager)
    response = client.post(
        f"/runs/{world.run.id}/certificates/jobs", data={"output_format": output_format}
    )
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert "can close this page" in page
    status = client.get(f"{job_url}.json").get_json()
    assert status["status"] == "done" and status["percent"] == 100
    assert (status["done"], status["total"]) == (3, 3)
    download = client.get(status["download_url"])
    assert download.status_code == 200
    if output_format == "zip":
        names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
        assert len(names) == 3 and all(re.match(r"AK-\d{4}-\d{6}-.+\.pdf$", n) for n in names)
    else:
        reader = PdfReader(io.BytesIO(download.data))
        assert len(reader.pages) == 3
    downloads = db.session.scalar(
        sa.select(sa.func.count(CertificateEvent.id)).where(
            CertificateEvent.kind == EventKind.DOWNLOADED
        )
    )
    assert downloads == 3


def test_second_job_while_one_runs_points_to_the_first(client):
    world = finished_run(1)
    job, _ = services.start_job(world.run, by=world.manager, output_format="zip")
    db.session.info.pop("certificates_after_commit")
    db.session.commit()
    login(client, world.manager)
    response = client.post(f"/runs/{world.run.id}/certificates/jobs", data={"output_format": "pdf"})
    assert response.headers["Location"].endswith(f"/certificates/jobs/{job.id}")
    assert db.session.scalar(sa.select(sa.func.count(CertificateJob.id))) == 1
    assert db.session.get(CertificateJob, job.id).status == JobStatus.QUEUED


def test_job_with_nobody_due_is_refused_with_a_message(client):
    world = finished_run(1, sessions=4, attended=1)
    login(client, world.manager)
    response = client.post(
        f"/runs/{world.run.id}/certificates/jobs",
        data={"output_format": "zip"},
        follow_redirects=True,
    )
    assert "Nobody in this run meets the rule yet" in response.get_data(as_text=True)


def test_my_certificates_in_the_menu(client):
    user = create_user()
    login(client, user)
    assert "/certificates/mine" in client.get("/").get_data(as_text=True)

"""Erasure leaves no trace of the person anywhere, and past donor reports keep their numbers."""

import base64
import json
import secrets
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.attendance.models import Attendance, Notification
from app.auth import two_factor
from app.auth.models import LoginFailure, RecoveryCode, User, UserRole, UserSession
from app.auth.roles import Role
from app.certificates import numbering, storage
from app.certificates.models import (
    Certificate,
    CertificateJob,
    CertificateStatus,
    JobFormat,
    JobStatus,
)
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.people import importer
from app.people.models import AgeBand, Person
from app.people.queries import PeopleFilters, people_query
from app.privacy import services
from app.privacy.models import ErasureKind, ErasureRequest
from app.quizzes.models import Attempt, AttemptSlot, Question, QuestionBank
from app.reports import data as report_data
from app.reports import files
from app.reports import services as report_services
from app.reports.compute import compute_report
from app.reports.models import ExportFormat, ReportSnapshot
from app.surveys.models import SurveyResponse
from app.text import normalize_name
from tests.conftest import _PASSWORD_HASH, PASSWORD, create_user, login
from tests.reports.dataset import NOW, Q1, build

FIRST, LAST = "Xhevdet", "Çorroshë-Đuričković"
EMAIL = f"xhevdet.corroshe.{secrets.token_hex(3)}@example.org"
NEEDLES = [FIRST, LAST, "Çorroshë", "Đuričković", EMAIL]


def _traces(text: str) -> list[str]:
    """The needles found in the text, as written, casefolded or folded to ASCII."""
    folded_text = normalize_name(text)
    casefolded = text.casefold()
    found = []
    for needle in NEEDLES:
        if needle.casefold() in casefolded:
            found.append(needle)
        for part in normalize_name(needle).split():
            if len(part) > 3 and part in folded_text:
                found.append(f"{needle} (folded: {part})")
    return found


def _database_text() -> str:
    """Every value of every row of every table, plus (SQLite) the SQL dump."""
    parts = []
    with db.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        assert tables <= set(db.metadata.tables) | {"alembic_version"}
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                parts.append(repr(tuple(row)))
                parts.extend(
                    json.dumps(v, ensure_ascii=False) for v in row if isinstance(v, dict | list)
                )
        if connection.dialect.name == "sqlite":
            parts.extend(connection.connection.driver_connection.iterdump())
    return "\n".join(parts)


def _instance_text(instance: Path) -> str:
    return "\n".join(
        f"{path}\n" + path.read_bytes().decode("utf-8", "replace")
        for path in sorted(instance.rglob("*"))
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm")
    )


@pytest.fixture
def outbox_dir(app, tmp_path):
    previous = app.config["MAIL_OUTBOX_DIR"]
    app.config["MAIL_OUTBOX_DIR"] = str(Path(app.instance_path) / "outbox")
    yield Path(app.config["MAIL_OUTBOX_DIR"])
    app.config["MAIL_OUTBOX_DIR"] = previous


@pytest.fixture
def world(app, outbox_dir):
    world = build()
    person = world.people["A"]
    person.first_name, person.last_name, person.email = FIRST, LAST, EMAIL
    person.phone = "+383 44 123 456"
    person.position = f"Assistant to {FIRST}"
    user = User(
        person=person, password_hash=_PASSWORD_HASH, email_confirmed_at=datetime(2026, 1, 1)
    )
    user.role_rows.append(UserRole(role=Role.LEARNER))
    db.session.add(user)
    db.session.flush()
    db.session.add(
        UserSession(token_hash=secrets.token_hex(32), user_id=user.id, ip_address="10.0.0.9")
    )
    db.session.add(LoginFailure(email_key=EMAIL, ip_address="10.0.0.9"))
    db.session.add(Notification(person_id=person.id, message=f"{FIRST}, your session moved"))
    db.session.execute(
        sa.update(Attendance)
        .where(Attendance.person_id == person.id)
        .values(remark=f"{FIRST} {LAST} came late")
    )
    db.session.execute(
        sa.update(SurveyResponse)
        .where(SurveyResponse.person_id == person.id)
        .values(comment=f"Signed: {FIRST} {LAST}", how_applied=f"{EMAIL} uses it")
    )
    attempt = db.session.scalars(sa.select(Attempt).where(Attempt.person_id == person.id)).first()
    bank = db.session.scalars(sa.select(QuestionBank)).first()
    question = Question(
        bank_id=bank.id,
        key="name",
        qtype="short_answer",
        competence="4.2",
        level=2,
        text_en="Write your full name",
        data={"answers": [{"text": "x", "weight": 100}]},
    )
    db.session.add(question)
    db.session.flush()
    db.session.add(
        AttemptSlot(
            attempt_id=attempt.id,
            question_id=question.id,
            position=1,
            layout={},
            response=f"{FIRST} {LAST}",
            points=1,
            score=0,
        )
    )
    certificate = db.session.scalar(
        sa.select(Certificate).where(Certificate.person_id == person.id)
    )
    payload = json.dumps({"name": f"{FIRST} {LAST}"}, ensure_ascii=False).encode()
    certificate.snapshot = {
        "name": f"{FIRST} {LAST}",
        "course": {"titles": {"en": "Open data"}, "hours": 8},
        "starts_on": "2026-02-06",
        "ends_on": "2026-02-10",
        "issuer": "Akademia",
        "programme": {"name": "P"},
    }
    certificate.token = base64.urlsafe_b64encode(payload).decode() + ".sig"
    certificate.revoked_reason = None
    certificate.code = numbering.new_code()  # the dataset's codes are not verifiable ones
    # Files that print the name: the PDF, a bulk bundle of the run, a pending upload, a mail.
    storage.write_atomic(
        storage.certificate_file(certificate.file_name), f"PDF {FIRST} {LAST}".encode()
    )
    job = CertificateJob(
        run_id=certificate.run_id,
        output_format=JobFormat.ZIP,
        status=JobStatus.DONE,
        output_name="bundle-1.zip",
    )
    db.session.add(job)
    storage.write_atomic(storage.bundle_file("bundle-1.zip"), f"ZIP {LAST}".encode())
    importer.store_upload(
        folder=importer.upload_folder(app.instance_path),
        data=f"first_name,last_name\n{FIRST},{LAST}\n".encode(),
        kind="csv",
    )
    outbox_dir.mkdir(parents=True, exist_ok=True)
    (outbox_dir / "20260101T000000.eml").write_bytes(
        f"To: {EMAIL}\nSubject: Welcome\n\nHello {FIRST}\n".encode()
    )
    (outbox_dir / "20260101T000001.eml").write_bytes(
        b"To: someone@example.org\nSubject: Other\n\nHello Besa\n"
    )
    report_services.add_standard_indicators(world.programme)
    db.session.commit()
    world.person, world.user, world.certificate = person, user, certificate
    return world


def _report_json(programme) -> str:
    report = compute_report(programme, starts_on=Q1[0], ends_on=Q1[1], now=NOW)
    return report_data.to_json(report)


def test_erasure_leaves_no_trace_and_keeps_the_reports(app, world, outbox_dir):
    programme, person = world.programme, world.person
    admin = create_user(Role.ADMIN)
    report = compute_report(programme, starts_on=Q1[0], ends_on=Q1[1], now=NOW)
    snapshot = report_services.freeze(programme=programme, report=report, title="Q1", by=admin)
    report_services.record_export(
        programme=programme, report=report, format=ExportFormat.CSV, by=admin, snapshot=snapshot
    )
    db.session.commit()
    # Frozen reports hold counts and labels, never a person (drill-down is computed live).
    assert _traces(snapshot.content) == []
    frozen = report_data.from_json(snapshot.content)
    csv_before = files.render(ExportFormat.CSV, frozen, programme=programme, frozen=True)
    live_before = _report_json(programme)
    assert _traces(_database_text()), "the test must start with the name in the database"
    assert _traces(_instance_text(Path(app.instance_path)))

    erasure = services.erase_person(
        person=person, by=admin, reason=f"Asked by {FIRST} Corroshe by e-mail", now=NOW
    )
    db.session.commit()
    deleted = services.delete_files(erasure.files)
    assert deleted >= 4  # certificate PDF, bundle, upload, one mail

    assert _traces(_database_text()) == []
    assert _traces(_instance_text(Path(app.instance_path))) == []
    assert (outbox_dir / "20260101T000001.eml").is_file()  # other people's mail stays

    # Donor reports: the live report of the period and the frozen snapshot are unchanged.
    assert _report_json(programme) == live_before
    db.session.expire_all()
    snapshot = db.session.get(ReportSnapshot, snapshot.id)
    frozen = report_data.from_json(snapshot.content)
    assert files.render(ExportFormat.CSV, frozen, programme=programme, frozen=True) == csv_before

    person = db.session.get(Person, person.id)
    assert person.erased_at == NOW and person.email is None and person.birth_year is None
    assert person.age_band == AgeBand.B30_44  # born 1990, last course in 2026
    assert person.sex.value == "female" and person.municipality_id is not None
    request = db.session.scalar(sa.select(ErasureRequest))
    assert (request.person_id, request.requested_by_id, request.kind) == (
        person.id,
        admin.id,
        ErasureKind.REQUEST,
    )
    assert "[…]" in request.reason and "e-mail" in request.reason
    user = db.session.get(User, world.user.id)
    assert not user.active and user.password_hash is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(UserRole.user_id == user.id)) == 0
    certificate = db.session.get(Certificate, world.certificate.id)
    assert certificate.status == CertificateStatus.ERASED and certificate.token == ""
    assert not storage.certificate_file(certificate.file_name).exists()
    assert db.session.scalar(sa.select(CertificateJob.output_name)) is None
    slot = db.session.scalar(sa.select(AttemptSlot).where(AttemptSlot.response.is_not(None)))
    assert slot.response == "" and slot.score == 0


def test_search_finds_the_erased_person_no_more(app, world):
    admin = create_user(Role.ADMIN)
    for q in (FIRST, "corroshe", "Đuričković", EMAIL):
        assert db.session.scalars(people_query(None, PeopleFilters(q=q))).all() == [world.person]
    services.erase_person(person=world.person, by=admin, reason="request", now=NOW)
    db.session.commit()
    for q in (FIRST, "corroshe", "Đuričković", "djurickovic", EMAIL):
        assert db.session.scalars(people_query(None, PeopleFilters(q=q))).all() == []


def test_verification_says_erased_without_the_name(app, client, world):
    admin = create_user(Role.ADMIN)
    code = world.certificate.code
    services.erase_person(person=world.person, by=admin, reason="request", now=NOW)
    db.session.commit()
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "erased" in text and FIRST not in text
    data = client.get(f"/verify/{code}.json").get_json()
    assert data["status"] == "erased" and "name" not in data and data["erased_on"] == "2026-06-01"


def test_erasure_needs_a_reason_and_happens_once(app, world):
    admin = create_user(Role.ADMIN)
    with pytest.raises(DomainError):
        services.erase_person(person=world.person, by=admin, reason="  ", now=NOW)
    with pytest.raises(NotAllowed):
        services.erase_person(person=admin.person, by=admin, reason="mine", now=NOW)
    services.erase_person(person=world.person, by=admin, reason="request", now=NOW)
    with pytest.raises(Conflict):
        services.erase_person(person=world.person, by=admin, reason="again", now=NOW)


def test_the_erased_learner_is_signed_out(app, world):
    client = app.test_client()
    admin = create_user(Role.ADMIN)
    login(client, world.user)
    assert client.get("/profile").status_code == 200
    services.erase_person(person=world.person, by=admin, reason="request", now=NOW)
    db.session.commit()
    assert client.get("/profile").status_code == 302
    response = client.post("/auth/sign-in", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code != 302


def test_admin_erases_through_a_confirmation_page(app, world):
    client = app.test_client()
    admin = create_user(Role.ADMIN)
    login(client, admin)
    url = f"/people/{world.person.id}/erase"
    page = client.get(url)
    assert page.status_code == 200 and "cannot be undone" in page.get_data(as_text=True)
    # Without the tick nothing happens, and the reason typed stays in the form.
    response = client.post(url, data={"reason": "Request of 3 March"})
    assert response.status_code == 200
    assert "Request of 3 March" in response.get_data(as_text=True)
    assert db.session.get(Person, world.person.id).erased_at is None
    response = client.post(url, data={"reason": "Request of 3 March", "confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{world.person.id}")
    db.session.expire_all()
    assert db.session.get(Person, world.person.id).erased_at is not None
    assert client.get(url).status_code == 302  # already erased: back to the person's page


def test_only_administrators_erase(app, world):
    client = app.test_client()
    manager = create_user(Role.MANAGER, programme=world.programme)
    login(client, manager)
    url = f"/people/{world.person.id}/erase"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"reason": "x", "confirm": "y"}).status_code == 403
    assert db.session.get(Person, world.person.id).erased_at is None


def test_staff_pages_of_an_erased_certificate_name_nobody(app):
    from tests.certificates.helpers import finished_run, issue_all

    world = finished_run(2, names=[(FIRST, LAST), ("Dragan", "Šćekić")])
    issue_all(world.run)
    person = world.people[0]
    certificate = db.session.scalar(
        sa.select(Certificate).where(Certificate.person_id == person.id)
    )
    assert storage.certificate_file(certificate.file_name).is_file()
    admin = create_user(Role.ADMIN)
    erasure = services.erase_person(person=person, by=admin, reason="request", now=NOW)
    db.session.commit()
    services.delete_files(erasure.files)
    client = app.test_client()
    login(client, world.manager)
    for url in (f"/certificates/{certificate.id}", f"/runs/{world.run.id}/certificates"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert _traces(page.get_data(as_text=True)) == [], url
    # Neither downloaded nor rendered again from the snapshot.
    response = client.get(f"/certificates/{certificate.id}/download")
    assert response.status_code == 302
    assert not storage.certificate_file(certificate.file_name).exists()
    # The automatic issuance does not give the erased person a new certificate.
    assert issue_all(world.run) == 0


def test_an_erased_trainer_leaves_the_learners_certificates(app):
    from tests.certificates.helpers import finished_run, issue_all

    world = finished_run(2)
    issue_all(world.run)
    trainer_name = world.trainer.name
    certificates = db.session.scalars(sa.select(Certificate)).all()
    assert all(c.snapshot["trainers"] == [trainer_name] for c in certificates)
    admin = create_user(Role.ADMIN)
    services.erase_person(person=world.trainer.person, by=admin, reason="left", now=NOW)
    db.session.commit()
    db.session.expire_all()
    certificates = db.session.scalars(sa.select(Certificate)).all()
    assert [c.snapshot["trainers"] for c in certificates] == [[], []]
    assert all(c.status == CertificateStatus.VALID for c in certificates)
    assert trainer_name not in _database_text()


def test_an_erased_manager_keeps_no_second_factor(app):
    manager = create_user(Role.MANAGER)  # two-step sign-in on, as the role requires
    codes = two_factor._replace_recovery_codes(manager, NOW)
    db.session.commit()
    assert codes and db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)))
    admin = create_user(Role.ADMIN)
    services.erase_person(person=manager.person, by=admin, reason="left", now=NOW)
    db.session.commit()
    db.session.expire_all()
    user = db.session.get(User, manager.id)
    assert (user.totp_secret, user.totp_enabled_at, user.totp_last_step) == (None, None, None)
    assert (
        db.session.scalars(sa.select(RecoveryCode).where(RecoveryCode.user_id == manager.id)).all()
        == []
    )

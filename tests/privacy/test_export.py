"""A person's data as JSON and PDF: complete, their own only, a constant number of queries."""

import json
import secrets
from datetime import datetime

import sqlalchemy as sa

from app.auth.models import UserSession
from app.auth.roles import Role
from app.extensions import db
from app.privacy import export
from app.privacy.sources import SOURCES
from tests.certificates.helpers import finished_run, issue_all, pdf_text
from tests.conftest import create_user, login
from tests.query_counter import count_queries

NOW = datetime(2026, 6, 1, 10)


def _learner_in_a_finished_run(n: int = 1):
    world = finished_run(
        n, sessions=3, post_test=True, survey=True, names=[("Šejla", "Çeku-Đorđević")] * n
    )
    issue_all(world.run)
    person = world.people[0]
    user = create_user(Role.LEARNER, email=None)
    user.person = person
    db.session.commit()
    return world, person, user


def test_the_json_holds_every_source(app):
    world, person, user = _learner_in_a_finished_run()
    db.session.add(UserSession(token_hash=secrets.token_hex(32), user_id=user.id))
    db.session.commit()
    document = json.loads(export.json_bytes(export.collect(person, NOW)))
    assert document["person_id"] == person.id
    assert set(document["data"]) == {s.key for s in SOURCES}
    data = document["data"]
    assert data["person"][0]["last_name"] == "Çeku-Đorđević"
    assert data["person"][0]["email"] == person.email
    assert [r["role"] for r in data["roles"]] == ["learner"]
    assert len(data["enrolments"]) == 1 and len(data["attendance"]) == 3
    assert len(data["quiz_attempts"]) == 1 and data["quiz_attempts"][0]["passed"] is True
    assert data["certificates"][0]["number"].startswith("AK-")
    assert data["certificates"][0]["verification_code"]
    assert len(data["survey_invitations"]) == 1
    assert len(data["sessions"]) == 1
    assert data["account"][0]["password_set"] is True
    assert "password_hash" not in json.dumps(document)


def test_the_number_of_queries_does_not_grow_with_the_data(app):
    _world, small, _user = _learner_in_a_finished_run()
    with count_queries() as few:
        export.collect(small, NOW)
    world = finished_run(2, sessions=8, post_test=True, survey=True)
    busy = world.people[0]
    issue_all(world.run)
    user = create_user(Role.LEARNER, email=None)
    user.person = busy
    for _ in range(5):
        db.session.add(UserSession(token_hash=secrets.token_hex(32), user_id=user.id))
    db.session.commit()
    with count_queries() as many:
        export.collect(busy, NOW)
    assert many.count == few.count <= len(SOURCES) + 4  # + user id, staff counts, reload, BEGIN


def test_the_pdf_prints_the_name_with_its_letters(app):
    _world, person, _user = _learner_in_a_finished_run()
    pdf = export.pdf_bytes(export.collect(person, NOW), person.full_name)
    text = pdf_text(pdf)
    assert "Šejla Çeku-Đorđević" in text
    assert "Course enrolments" in text and "Certificates" in text


def test_a_learner_downloads_their_own_data_only(app, client):
    _world, person, user = _learner_in_a_finished_run()
    other = create_user(Role.LEARNER, first_name="Dragan", last_name="Šćekić")
    login(client, user)
    page = client.get("/my-data")
    assert page.status_code == 200 and "Certificates" in page.get_data(as_text=True)
    response = client.get("/my-data/download.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    document = json.loads(response.data)
    assert document["person_id"] == person.id
    assert "Šćekić" not in response.get_data(as_text=True)
    pdf = client.get("/my-data/download.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert client.get("/my-data/download.xml").status_code == 404
    # Someone else's data is an administrator's download only.
    assert client.get(f"/people/{other.person_id}/data.json").status_code == 403


def test_an_administrator_downloads_a_persons_data(app, client):
    world, person, _user = _learner_in_a_finished_run()
    admin = create_user(Role.ADMIN)
    login(client, world.manager)
    assert client.get(f"/people/{person.id}/data.json").status_code == 403
    client = app.test_client()
    login(client, admin)
    document = json.loads(client.get(f"/people/{person.id}/data.json").data)
    assert document["data"]["person"][0]["first_name"] == "Šejla"
    assert client.get("/people/999999/data.json").status_code == 404
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert f"/people/{person.id}/erase" in page and f"/people/{person.id}/data.pdf" in page


def test_staff_records_are_counted(app):
    world, _person, _user = _learner_in_a_finished_run()
    data = export.collect(world.trainer.person, NOW)
    labels = {label: count for _column, label, count in data.staff_records}
    assert labels["Sessions you lead"] == 3
    assert labels["Course runs you teach"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0

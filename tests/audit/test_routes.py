"""The audit trail page: administrators only, filters, pages, CSV; constant queries."""

import csv
import io
from datetime import datetime

import pytest

from app import audit
from app.auth.roles import Role
from app.extensions import db
from tests.audit.helpers import events
from tests.conftest import create_person, create_programme, create_run, create_user, login
from tests.query_counter import count_queries


def _event(action="attendance.mark", *, actor=None, person=None, at=None, **values):
    audit.record(
        action,
        subject_type=values.pop("subject_type", "session"),
        subject_id=values.pop("subject_id", 1),
        actor=actor,
        person_id=person.id if person else None,
        **values,
    )
    db.session.commit()
    if at is not None:
        latest = events()[-1]
        latest.at = at
        db.session.commit()


@pytest.fixture
def admin_client(app, client):
    admin = create_user(Role.ADMIN, first_name="Adelina", last_name="Hoxha")
    login(client, admin)
    return client, admin


@pytest.mark.parametrize("role", [Role.LEARNER, Role.TRAINER, Role.MANAGER])
def test_only_administrators_open_the_trail(client, role):
    assert client.get("/admin/audit").status_code == 302
    assert client.get("/admin/audit/export.csv").status_code == 302
    login(client, create_user(role))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403
    assert events() == []


def test_the_page_shows_names_of_today_and_before_after(admin_client):
    client, admin = admin_client
    trainer = create_user(Role.TRAINER, first_name="Besnik", last_name="Gashi")
    learner = create_person(first_name="Vjosa", last_name="Berisha")
    run = create_run()
    _event(
        actor=trainer,
        person=learner,
        run_id=run.id,
        before={"status": "present"},
        after={"status": "absent", "channel": "qr"},
    )
    learner.first_name = "Vjosa-Renamed"  # names are read now, never copied into the trail
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Attendance marked" in page
    assert "Besnik Gashi" in page and "Vjosa-Renamed Berisha" in page
    assert "<del>Present</del> → <strong>Absent</strong>" in page
    assert "QR check-in" in page
    assert run.programme.code in page and run.course.code in page
    sq = client.get("/admin/audit", headers={"Accept-Language": "sq"}).get_data(as_text=True)
    assert sq  # labels go through gettext; the Albanian words come with the translations


def test_filters_by_action_actor_person_programme_run_and_dates(admin_client):
    client, admin = admin_client
    trainer = create_user(Role.TRAINER, first_name="Besnik", last_name="Gashi")
    learner = create_person(first_name="Vjosa", last_name="Berisha")
    other = create_person(first_name="Dragan", last_name="Šćekić")
    programme = create_programme()
    run = create_run(programme)
    _event(actor=trainer, person=learner, run_id=run.id, at=datetime(2026, 3, 1, 9))
    _event(
        "certificate.revoke",
        actor=admin,
        person=other,
        subject_type="certificate",
        at=datetime(2026, 4, 1, 9),
    )
    _event(
        "report.export",
        actor=admin,
        programme_id=programme.id,
        subject_type="report_export",
        at=datetime(2026, 5, 1, 9),
    )

    def shown(query):
        text = client.get(f"/admin/audit?{query}").get_data(as_text=True)
        found = [
            (text.index(f"<td>{label}</td>"), label)
            for label in ("Attendance marked", "Certificate revoked", "Report exported")
            if f"<td>{label}</td>" in text
        ]
        return [label for _position, label in sorted(found)]  # as the page lists them

    everything = ["Attendance marked", "Certificate revoked", "Report exported"]
    assert shown("") == everything[::-1]  # newest first
    assert shown("action=certificate.revoke") == ["Certificate revoked"]
    assert shown("actor=gashi") == ["Attendance marked"]
    assert shown(f"actor={trainer.id}") == ["Attendance marked"]
    assert shown(f"actor={admin.person.email}") == ["Report exported", "Certificate revoked"]
    assert shown("person=scekic") == ["Certificate revoked"]  # diacritics folded
    assert shown(f"person={learner.id}") == ["Attendance marked"]
    # A programme finds its own events and those of its runs.
    assert shown(f"programme={programme.id}") == ["Report exported", "Attendance marked"]
    assert shown(f"run={run.id}") == ["Attendance marked"]
    assert shown("date_from=2026-03-15&date_to=2026-04-30") == ["Certificate revoked"]
    assert shown("date_from=2026-04-01&date_to=2026-04-01") == ["Certificate revoked"]
    page = client.get("/admin/audit?date_from=2026-05-01&date_to=2026-04-01")
    assert "The end date must not be before the start date." in page.get_data(as_text=True)
    assert shown("person=nobody-of-this-name") == []


def test_pages_newest_first_by_keyset(admin_client, monkeypatch):
    from app.audit import routes

    client, _admin = admin_client
    monkeypatch.setattr(routes, "PER_PAGE", 2)
    for n in range(5):
        _event(subject_id=100 + n)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "Session #104" in first and "Session #103" in first and "Session #102" not in first
    newest = events()[-1].id
    second = client.get(f"/admin/audit?before={newest - 1}").get_data(as_text=True)
    assert "Session #102" in second and "Session #101" in second and "Session #103" not in second
    last = client.get(f"/admin/audit?before={newest - 3}").get_data(as_text=True)
    assert "Session #100" in last and "Older" not in last


def test_the_page_costs_the_same_queries_for_many_events(admin_client):
    client, _admin = admin_client

    def queries_for(n):
        for _ in range(n):
            trainer = create_user(Role.TRAINER)
            person = create_person()
            _event(
                actor=trainer, person=person, run_id=create_run().id, after={"status": "present"}
            )
        client.get("/admin/audit")  # warm caches (locale, user)
        with count_queries() as counter:
            assert client.get("/admin/audit").status_code == 200
        return counter.count

    assert queries_for(2) == queries_for(12)


def test_csv_of_the_filtered_trail_is_itself_audited(admin_client):
    client, admin = admin_client
    learner = create_person(first_name="Vjosa", last_name="Berisha")
    _event(actor=admin, person=learner, before={"status": None}, after={"status": "=late"})
    _event("role.grant", actor=admin, subject_type="user", after={"role": "trainer"})
    response = client.get("/admin/audit/export.csv?action=attendance.mark&person=berisha")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, (row,) = rows[0], rows[1:]
    line = dict(zip(header, row, strict=True))
    assert line["Action"] == "Attendance marked" and line["Action key"] == "attendance.mark"
    assert line["Person"] == "Vjosa Berisha" and line["Person number"] == str(learner.id)
    assert line["Done by"] == "Adelina Hoxha"
    assert line["After"] == '{"status": "=late"}'  # a JSON cell starts with "{": harmless
    exported = events("audit.export")
    assert len(exported) == 1
    assert exported[0].actor_id == admin.id
    assert exported[0].after == {
        "format": "csv",
        "rows": 1,
        "action": "attendance.mark",
        "person_filter": True,
    }
    assert "berisha" not in str(exported[0].after).lower()


def test_csv_refuses_a_result_too_large_with_a_message(admin_client, monkeypatch):
    from app.audit import routes

    client, _admin = admin_client
    monkeypatch.setattr(routes, "MAX_CSV_ROWS", 2)
    for n in range(3):
        _event(subject_id=n + 1)
    response = client.get("/admin/audit/export.csv?action=attendance.mark", follow_redirects=True)
    assert "narrow the search" in response.get_data(as_text=True)
    assert events("audit.export") == []


def test_an_unknown_before_value_or_bad_date_loses_nothing(admin_client):
    client, _admin = admin_client
    _event()
    response = client.get("/admin/audit?date_from=not-a-date&before=abc")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Attendance marked" in text and "Not a valid date value." in text


def test_a_change_made_in_a_request_names_the_signed_in_user(admin_client):
    client, admin = admin_client
    response = client.post(
        "/admin/users/new",
        data={
            "first_name": "Drita",
            "last_name": "Berisha",
            "email": "drita.berisha@example.org",
            "roles": ["trainer"],
        },
    )
    assert response.status_code == 302
    (grant,) = events("role.grant")
    assert grant.actor_id == admin.id and grant.after == {"role": "trainer"}


def test_the_request_id_is_kept_when_the_request_has_one(app):
    from flask import g

    with app.test_request_context("/"):
        g.request_id = "req-4f2a"
        audit.record("attendance.mark", subject_type="session", subject_id=7)
        db.session.commit()
    (event,) = events()
    assert event.request_id == "req-4f2a" and event.actor_id is None

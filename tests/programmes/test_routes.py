from datetime import date

import pytest
import sqlalchemy as sa

from app.auth.roles import Role
from app.extensions import db
from app.programmes.models import Programme, ProgrammeMember, ReportingPeriod
from app.programmes.services import add_participant
from tests.conftest import create_person, create_programme, create_run, create_user, login
from tests.query_counter import count_queries


@pytest.fixture
def two_programmes():
    """Programme A managed by the signed-in manager, and B managed by someone else."""
    a = create_programme(code="PRG-A", name="Alpha programme")
    b = create_programme(code="PRG-B", name="Beta programme")
    manager_a = create_user(Role.MANAGER, programme=a)
    manager_b = create_user(Role.MANAGER, programme=b)
    period_b = ReportingPeriod(
        programme=b, name="Year 1", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31)
    )
    db.session.add(period_b)
    db.session.commit()
    member_b = db.session.scalar(
        sa.select(ProgrammeMember).where(ProgrammeMember.user_id == manager_b.id)
    )
    return {"a": a, "b": b, "manager_a": manager_a, "period_b": period_b, "member_b": member_b}


def _programme_form(**overrides) -> dict:
    data = {
        "code": "NEW-1",
        "name": "New programme",
        "donor": "Donor",
        "grant_code": "",
        "description": "",
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
        "attendance_threshold": "80",
    }
    data.update(overrides)
    return data


# Scoping


def test_index_lists_only_the_programmes_a_manager_manages(client, two_programmes):
    login(client, two_programmes["manager_a"])
    body = client.get("/programmes").get_data(as_text=True)
    assert "Alpha programme" in body and "Beta programme" not in body


def test_index_lists_all_programmes_for_admins(client, two_programmes):
    login(client, create_user(Role.ADMIN))
    body = client.get("/programmes").get_data(as_text=True)
    assert "Alpha programme" in body and "Beta programme" in body


def test_manager_opens_and_edits_own_programme(client, two_programmes):
    login(client, two_programmes["manager_a"])
    a = two_programmes["a"]
    assert client.get(f"/programmes/{a.id}").status_code == 200
    assert client.get(f"/programmes/{a.id}/edit").status_code == 200
    response = client.post(
        f"/programmes/{a.id}/edit", data=_programme_form(code="prg-a", name="Alpha renamed")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Programme, a.id).name == "Alpha renamed"


def test_manager_of_a_gets_403_on_everything_of_b(client, two_programmes):
    login(client, two_programmes["manager_a"])
    b = two_programmes["b"]
    period, member = two_programmes["period_b"], two_programmes["member_b"]
    assert client.get(f"/programmes/{b.id}").status_code == 403
    assert client.get(f"/programmes/{b.id}/edit").status_code == 403
    assert client.post(f"/programmes/{b.id}/edit", data=_programme_form()).status_code == 403
    assert (
        client.post(
            f"/programmes/{b.id}/periods",
            data={"name": "Year 2", "starts_on": "2027-01-01", "ends_on": "2027-12-31"},
        ).status_code
        == 403
    )
    assert client.post(f"/programmes/{b.id}/periods/{period.id}/delete").status_code == 403
    assert (
        client.post(
            f"/programmes/{b.id}/members",
            data={"user_id": two_programmes["manager_a"].id, "role": "manager"},
        ).status_code
        == 403
    )
    assert client.post(f"/programmes/{b.id}/members/{member.id}/remove").status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ReportingPeriod.id))) == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count(ProgrammeMember.id)).where(ProgrammeMember.programme_id == b.id)
        )
        == 1
    )


def test_rows_of_b_cannot_be_reached_through_a(client, two_programmes):
    login(client, two_programmes["manager_a"])
    a = two_programmes["a"]
    period, member = two_programmes["period_b"], two_programmes["member_b"]
    assert client.post(f"/programmes/{a.id}/periods/{period.id}/delete").status_code == 404
    assert client.post(f"/programmes/{a.id}/members/{member.id}/remove").status_code == 404


def test_admin_opens_any_programme(client, two_programmes):
    login(client, create_user(Role.ADMIN))
    assert client.get(f"/programmes/{two_programmes['b'].id}").status_code == 200
    assert client.get(f"/programmes/{two_programmes['b'].id}/edit").status_code == 200


@pytest.mark.parametrize("role", [Role.TRAINER, Role.LEARNER])
def test_programmes_are_forbidden_to_trainers_and_learners(client, two_programmes, role):
    login(client, create_user(role, programme=two_programmes["a"]))
    assert client.get("/programmes").status_code == 403
    assert client.get(f"/programmes/{two_programmes['a'].id}").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, two_programmes):
    response = client.get(f"/programmes/{two_programmes['a'].id}")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_only_admins_create_programmes(client):
    login(client, create_user(Role.MANAGER))
    assert client.get("/programmes/new").status_code == 403
    assert client.post("/programmes/new", data=_programme_form()).status_code == 403


def test_admin_creates_a_programme(client):
    login(client, create_user(Role.ADMIN))
    response = client.post("/programmes/new", data=_programme_form(code="dl-27"))
    assert response.status_code == 302
    programme = db.session.scalar(sa.select(Programme))
    assert programme.code == "DL-27" and programme.attendance_threshold == 80
    assert response.headers["Location"].endswith(f"/programmes/{programme.id}")


def test_programme_form_keeps_input_and_shows_the_clash(client, two_programmes):
    login(client, create_user(Role.ADMIN))
    response = client.post("/programmes/new", data=_programme_form(code="prg-b", name="Kept"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another programme already uses the code PRG-B" in body
    assert 'value="Kept"' in body


def test_programme_form_refuses_a_threshold_below_50(client):
    login(client, create_user(Role.ADMIN))
    response = client.post("/programmes/new", data=_programme_form(attendance_threshold="40"))
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Programme.id))) == 0


# Detail page


def test_detail_shows_counts_runs_and_links(client, two_programmes):
    a = two_programmes["a"]
    create_run(programme=a)
    for _ in range(3):
        add_participant(programme_id=a.id, person=create_person())
    db.session.commit()
    login(client, two_programmes["manager_a"])
    body = client.get(f"/programmes/{a.id}").get_data(as_text=True)
    assert f"/programmes/{a.id}/runs/new" in body
    assert f"/programmes/{a.id}/enrolment-counts" in body
    assert f"programme={a.id}" in body
    index = client.get("/programmes").get_data(as_text=True)
    assert '<td class="num">1</td>' in index and '<td class="num">3</td>' in index


def test_index_queries_do_not_grow_with_programmes(client):
    admin = create_user(Role.ADMIN)
    login(client, admin)
    create_run(programme=create_programme())
    with count_queries() as few:
        client.get("/programmes")
    for _ in range(5):
        programme = create_programme()
        create_run(programme=programme)
        add_participant(programme_id=programme.id, person=create_person())
    db.session.commit()
    with count_queries() as many:
        client.get("/programmes")
    assert many.count == few.count


# Periods


def test_add_and_delete_a_period(client, two_programmes):
    a = two_programmes["a"]
    login(client, two_programmes["manager_a"])
    response = client.post(
        f"/programmes/{a.id}/periods",
        data={"name": "Year 1", "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    )
    assert response.status_code == 302
    period = db.session.scalar(
        sa.select(ReportingPeriod).where(ReportingPeriod.programme_id == a.id)
    )
    assert period.name == "Year 1"
    response = client.post(f"/programmes/{a.id}/periods/{period.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReportingPeriod, period.id) is None


def test_overlapping_period_shows_the_message_and_keeps_input(client, two_programmes):
    a = two_programmes["a"]
    login(client, two_programmes["manager_a"])
    client.post(
        f"/programmes/{a.id}/periods",
        data={"name": "Year 1", "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    )
    response = client.post(
        f"/programmes/{a.id}/periods",
        data={"name": "Bridge", "starts_on": "2026-12-01", "ends_on": "2027-03-31"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This period overlaps Year 1." in body
    assert 'value="Bridge"' in body


# Members


def test_find_an_account_by_email_and_add_it_as_trainer(client, two_programmes):
    a = two_programmes["a"]
    trainer = create_user(Role.LEARNER, email="trainer.one@example.org")
    login(client, two_programmes["manager_a"])
    body = client.get(f"/programmes/{a.id}", query_string={"account": "TRAINER.one"}).get_data(
        as_text=True
    )
    assert "trainer.one@example.org" in body
    response = client.post(
        f"/programmes/{a.id}/members",
        query_string={"account": "trainer.one"},
        data={"user_id": trainer.id, "role": "trainer"},
    )
    assert response.status_code == 302
    member = db.session.scalar(
        sa.select(ProgrammeMember).where(ProgrammeMember.user_id == trainer.id)
    )
    assert member.programme_id == a.id and member.role == Role.TRAINER
    response = client.post(f"/programmes/{a.id}/members/{member.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgrammeMember, member.id) is None


def test_adding_a_member_twice_shows_the_message(client, two_programmes):
    a, manager = two_programmes["a"], two_programmes["manager_a"]
    login(client, manager)
    response = client.post(
        f"/programmes/{a.id}/members",
        query_string={"account": manager.email},
        data={"user_id": manager.id, "role": "manager"},
    )
    assert response.status_code == 200
    assert "is already a member with this role" in response.get_data(as_text=True)


def test_adding_an_unknown_account_is_refused(client, two_programmes):
    a = two_programmes["a"]
    login(client, two_programmes["manager_a"])
    response = client.post(
        f"/programmes/{a.id}/members",
        query_string={"account": "example"},
        data={"user_id": 999999, "role": "trainer"},
    )
    assert response.status_code == 200
    assert "Choose an account from the search results" in response.get_data(as_text=True)


def test_manager_who_removes_themselves_goes_back_to_the_list(client, two_programmes):
    a, manager = two_programmes["a"], two_programmes["manager_a"]
    member = db.session.scalar(
        sa.select(ProgrammeMember).where(ProgrammeMember.user_id == manager.id)
    )
    login(client, manager)
    response = client.post(f"/programmes/{a.id}/members/{member.id}/remove")
    assert response.headers["Location"].endswith("/programmes")
    assert client.get(f"/programmes/{a.id}").status_code == 403


def test_adding_a_member_refuses_an_id_no_account_can_have(client, two_programmes):
    """An id past the integer column overflowed the driver (a 500); it is a form error now."""
    a = two_programmes["a"]
    login(client, two_programmes["manager_a"])
    members = db.session.scalar(sa.select(sa.func.count(ProgrammeMember.id)))
    response = client.post(
        f"/programmes/{a.id}/members", data={"user_id": "9223372036854775808", "role": "trainer"}
    )
    assert response.status_code < 500
    assert db.session.scalar(sa.select(sa.func.count(ProgrammeMember.id))) == members

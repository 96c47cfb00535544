import re

import pytest
import sqlalchemy as sa

from app.auth import sessions
from app.auth.models import User, UserSession
from app.auth.roles import Role
from app.extensions import db
from app.people.models import Institution, InstitutionType
from tests.conftest import (
    PASSWORD,
    create_person,
    create_programme,
    create_user,
    login,
    municipality,
)
from tests.query_counter import count_queries


def _admin_client(client):
    admin = create_user(Role.ADMIN)
    login(client, admin)
    return admin


def _institution(**values) -> Institution:
    defaults = dict(
        name="Komuna e Prishtinës", type=InstitutionType.MUNICIPALITY, municipality=municipality()
    )
    defaults.update(values)
    institution = Institution(**defaults)
    db.session.add(institution)
    db.session.commit()
    return institution


ADMIN_PAGES = [
    "/admin",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/institutions",
    "/admin/institutions/new",
    "/admin/institutions/{institution}/edit",
]


def _url(template: str) -> str:
    other = create_user(Role.LEARNER)
    institution = _institution()
    return template.format(user=other.id, institution=institution.id)


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_open_for_administrators(client, page):
    _admin_client(client)
    response = client.get(_url(page))
    assert response.status_code == 200


@pytest.mark.parametrize("role", [Role.MANAGER, Role.TRAINER, Role.LEARNER])
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_are_forbidden_to_other_roles(client, page, role):
    login(client, create_user(role))
    assert client.get(_url(page)).status_code == 403


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_send_anonymous_visitors_to_sign_in(client, page):
    response = client.get(_url(page))
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    "action", ["/admin/users/{user}", "/admin/users/{user}/sign-out", "/admin/institutions/new"]
)
def test_admin_actions_are_forbidden_to_managers(client, action):
    login(client, create_user(Role.MANAGER))
    response = client.post(
        _url(action), data={"roles": ["admin"], "active": "y", "name": "X", "type": "other"}
    )
    assert response.status_code == 403


# Accounts list


def test_users_search_ignores_diacritics_and_case(client):
    _admin_client(client)
    create_user(first_name="Drilon", last_name="Çitaku")
    create_user(first_name="Milica", last_name="Đorđević")
    create_user(first_name="Other", last_name="Person", email="other@example.org")
    body = client.get("/admin/users", query_string={"q": "CITAKU"}).get_data(as_text=True)
    assert "Çitaku" in body and "Đorđević" not in body
    body = client.get("/admin/users", query_string={"q": "milica djordjevic"}).get_data(
        as_text=True
    )
    assert "Đorđević" in body and "Çitaku" not in body
    body = client.get("/admin/users", query_string={"q": "other@EXAMPLE"}).get_data(as_text=True)
    assert "other@example.org" in body and "Çitaku" not in body


def test_users_filter_by_role_and_state(client):
    _admin_client(client)
    create_user(Role.TRAINER, first_name="Teuta", last_name="Trainer")
    gone = create_user(Role.LEARNER, first_name="Gani", last_name="Gone")
    gone.active = False
    db.session.commit()
    body = client.get("/admin/users", query_string={"role": "trainer"}).get_data(as_text=True)
    assert "Teuta Trainer" in body and "Gani Gone" not in body
    body = client.get("/admin/users", query_string={"active": "no"}).get_data(as_text=True)
    assert "Gani Gone" in body and "Teuta Trainer" not in body
    # A value that is not a choice is ignored rather than failing.
    assert client.get("/admin/users", query_string={"role": "emperor"}).status_code == 200


def test_users_list_is_paginated(client):
    _admin_client(client)
    for _ in range(26):
        create_user()
    body = client.get("/admin/users").get_data(as_text=True)
    assert "27 accounts found" in body
    assert "Page 1 of 2" in body
    assert client.get("/admin/users", query_string={"page": 2}).status_code == 200


def test_users_list_queries_do_not_grow_with_accounts(client):
    _admin_client(client)
    for _ in range(2):
        create_user(Role.TRAINER)
    with count_queries() as few:
        client.get("/admin/users")
    for _ in range(10):
        create_user(Role.MANAGER, Role.TRAINER)
    with count_queries() as many:
        client.get("/admin/users")
    assert many.count == few.count


# One account


def test_admin_sets_roles(client):
    _admin_client(client)
    user = create_user(Role.LEARNER)
    response = client.post(
        f"/admin/users/{user.id}", data={"roles": ["learner", "trainer"], "active": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).roles == {Role.LEARNER, Role.TRAINER}


def test_admin_cannot_remove_own_admin_role(client):
    admin = _admin_client(client)
    create_user(Role.ADMIN)
    response = client.post(f"/admin/users/{admin.id}", data={"roles": ["manager"], "active": "y"})
    assert response.status_code == 200
    assert "You cannot remove your own administrator role" in response.get_data(as_text=True)
    # The form keeps what was chosen.
    assert re.search(
        r'value="manager"[^>]*checked|checked[^>]*value="manager"', response.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_admin


def test_admin_cannot_deactivate_themselves(client):
    admin = _admin_client(client)
    response = client.post(f"/admin/users/{admin.id}", data={"roles": ["admin"]})
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_deactivating_signs_the_account_out_at_once(app, client):
    _admin_client(client)
    user = create_user(Role.LEARNER)
    other_browser = app.test_client()
    login(other_browser, user)
    assert other_browser.get("/my-courses").status_code == 200
    response = client.post(f"/admin/users/{user.id}", data={"roles": ["learner"]})
    assert response.status_code == 302
    assert other_browser.get("/my-courses").status_code == 302
    assert (
        db.session.scalar(
            sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == user.id)
        )
        == 0
    )


def test_sign_out_everywhere(app, client):
    _admin_client(client)
    user = create_user(Role.LEARNER)
    other_browser = app.test_client()
    login(other_browser, user)
    response = client.post(f"/admin/users/{user.id}/sign-out", follow_redirects=True)
    assert "1 session was ended" in response.get_data(as_text=True)
    assert other_browser.get("/my-courses").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).active  # signed out, not deactivated


def test_user_detail_lists_memberships_and_sessions(client):
    _admin_client(client)
    programme = create_programme(name="Digital Municipalities")
    user = create_user(Role.MANAGER, programme=programme)
    sessions.start_session(user, ip_address="10.1.2.3", user_agent="Firefox test")
    db.session.commit()
    body = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Digital Municipalities" in body
    assert "10.1.2.3" in body and "Firefox test" in body


def test_unknown_user_is_404(client):
    _admin_client(client)
    assert client.get("/admin/users/999999").status_code == 404


# Invitations


def test_invite_creates_account_and_mails_a_password_link(client, outbox):
    _admin_client(client)
    response = client.post(
        "/admin/users/new",
        data={
            "first_name": "Vjosa",
            "last_name": "Berisha",
            "email": "vjosa@example.org",
            "roles": ["trainer"],
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).order_by(User.id.desc()))
    assert user.email == "vjosa@example.org" and user.roles == {Role.TRAINER}
    assert len(outbox) == 1 and outbox[0]["To"] == "vjosa@example.org"
    match = re.search(r"http://localhost(/auth/reset-password/\S+)", outbox[0].get_content())
    assert match, outbox[0].get_content()
    # The link lets the person choose a password and sign in.
    response = client.post("/auth/sign-out")
    response = client.post(match.group(1), data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    login(client, user)


def test_invite_of_an_existing_account_is_refused_and_sends_nothing(client, outbox):
    _admin_client(client)
    existing = create_user()
    response = client.post(
        "/admin/users/new",
        data={
            "first_name": "A",
            "last_name": "B",
            "email": existing.email,
            "roles": ["learner"],
        },
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "already has an account" in body
    assert 'value="A"' in body  # the typed input is kept
    assert outbox == []


def test_invite_reuses_a_known_participant(client, outbox):
    _admin_client(client)
    person = create_person(email="known@example.org")
    db.session.commit()
    client.post(
        "/admin/users/new",
        data={
            "first_name": "K",
            "last_name": "P",
            "email": "known@example.org",
            "roles": ["learner"],
        },
    )
    user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
    assert user is not None and len(outbox) == 1


# Institutions


def test_institutions_list_search_and_type_filter(client):
    _admin_client(client)
    _institution(name="Komuna e Pejës", municipality=municipality("peje"))
    _institution(name="Universiteti i Prishtinës", type=InstitutionType.UNIVERSITY)
    body = client.get("/admin/institutions", query_string={"q": "peje"}).get_data(as_text=True)
    assert "Komuna e Pejës" in body and "Universiteti" not in body
    body = client.get("/admin/institutions", query_string={"type": "university"}).get_data(
        as_text=True
    )
    assert "Universiteti i Prishtinës" in body and "Komuna e Pejës" not in body


def test_institution_new_and_duplicate(client):
    _admin_client(client)
    place = municipality("gjakove")
    data = {"name": "Komuna e Gjakovës", "type": "municipality", "municipality": str(place.id)}
    assert client.post("/admin/institutions/new", data=data).status_code == 302
    response = client.post("/admin/institutions/new", data=dict(data, name="komuna e gjakoves"))
    assert response.status_code == 200
    assert "There is already an institution called" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 1


def test_institution_edit_without_municipality(client):
    _admin_client(client)
    institution = _institution(name="Ministry", type=InstitutionType.OTHER)
    response = client.post(
        f"/admin/institutions/{institution.id}/edit",
        data={
            "name": "Ministria e Administratës Publike",
            "type": "ministry",
            "municipality": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    institution = db.session.get(Institution, institution.id)
    assert institution.type == InstitutionType.MINISTRY and institution.municipality_id is None


def test_admin_overview_shows_counts_and_links(client):
    _admin_client(client)
    create_programme()
    body = client.get("/admin").get_data(as_text=True)
    assert "/admin/users" in body and "/admin/institutions" in body and "/places" in body
    assert "38" in body  # municipalities

import re

import pytest
import sqlalchemy as sa

from app.admin.services import update_municipality
from app.auth.roles import Role
from app.errors import Conflict
from app.extensions import db
from app.places.models import Municipality
from app.places.queries import municipality_matcher
from tests.conftest import create_user, login, municipality
from tests.query_counter import count_queries


@pytest.fixture(autouse=True)
def _restore_places():
    """Places are reference data kept between tests, so put back what a test edits."""
    saved = {m.id: (m.name_en, m.variants) for m in db.session.scalars(sa.select(Municipality))}
    yield
    db.session.rollback()
    for row in db.session.scalars(sa.select(Municipality)):
        row.name_en, row.variants = saved[row.id]
    db.session.commit()


def test_index_lists_38_municipalities_in_7_regions(client):
    login(client, create_user(Role.MANAGER))
    response = client.get("/places")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(re.findall(r'<section class="panel" id="region-', body)) == 7
    assert len(re.findall(r'<tr id="municipality-', body)) == 38
    for name in (
        "Prishtinë",
        "Priština",
        "Graçanicë",
        "Severna Mitrovica",
        "Hani i Elezit",
        "Elez Han",
        "Ranillug",
        "Gllogoc",
    ):
        assert name in body
    assert "/edit" not in body  # managers read, administrators edit


def test_index_uses_a_query_per_relation_not_per_row(client):
    login(client, create_user(Role.ADMIN))
    with count_queries() as counter:
        client.get("/places")
    # The signed-in session with its user and roles (2), the unread-notification count in the
    # menu (1), regions and their municipalities (2), and at most one write of the session's
    # last-seen time: never one per municipality.
    assert counter.count <= 6


@pytest.mark.parametrize("role", [Role.TRAINER, Role.LEARNER])
def test_index_is_forbidden_to_trainers_and_learners(client, role):
    login(client, create_user(role))
    assert client.get("/places").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/places")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_only_admins_edit(client):
    login(client, create_user(Role.MANAGER))
    drenas = municipality("drenas")
    assert client.get(f"/places/{drenas.id}/edit").status_code == 403
    assert client.post(f"/places/{drenas.id}/edit", data={"name_en": "X"}).status_code == 403


def test_admin_edits_english_name_and_variants(client):
    login(client, create_user(Role.ADMIN))
    drenas = municipality("drenas")
    assert client.get(f"/places/{drenas.id}/edit").status_code == 200
    response = client.post(
        f"/places/{drenas.id}/edit",
        data={
            "name_en": "Drenas",
            "variants": "Gllogoc\r\n  Drenica \r\n\r\nGllogoc\r\nGlogovac",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    drenas = municipality("drenas")
    assert drenas.variants == "Gllogoc|Drenica|Glogovac"
    # Imports now match the new spelling, with or without diacritics.
    assert municipality_matcher()["drenica"].id == drenas.id


def test_variant_naming_another_municipality_is_refused(client):
    login(client, create_user(Role.ADMIN))
    drenas = municipality("drenas")
    before = drenas.variants
    response = client.post(
        f"/places/{drenas.id}/edit",
        data={
            "name_en": "Drenas",
            "variants": "Gllogoc\nPeje",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already names Pejë/Peć" in body
    assert "Peje" in body  # the typed input is kept
    db.session.expire_all()
    assert municipality("drenas").variants == before


def test_english_name_of_another_municipality_is_refused(client):
    login(client, create_user(Role.ADMIN))
    drenas = municipality("drenas")
    response = client.post(
        f"/places/{drenas.id}/edit",
        data={
            "name_en": "Gjakova",
            "variants": "Gllogoc",
        },
    )
    assert "already names" in response.get_data(as_text=True)
    db.session.expire_all()
    assert municipality("drenas").name_en != "Gjakova"


def test_update_municipality_service_checks_both_names():
    drenas = municipality("drenas")
    with pytest.raises(Conflict) as info:
        update_municipality(
            municipality=drenas, name_en="Drenas", variants=["Mitrovica e Jugut", "Južna Mitrovica"]
        )
    assert info.value.field == "variants"
    with pytest.raises(Conflict) as info:
        update_municipality(municipality=drenas, name_en="prizren", variants=[])
    assert info.value.field == "name_en"
    update_municipality(municipality=drenas, name_en=" Drenas ", variants=["Gllogoc"])
    assert drenas.name_en == "Drenas" and drenas.variants == "Gllogoc"

"""People pages: profile, the managers' list, person pages and the import flow."""

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from app.people import services
from app.people.models import InstitutionType, Person, Sex, TargetGroup
from app.programmes.models import ProgrammeMember, ProgrammeParticipant
from tests.conftest import create_person, create_programme, create_user, login, municipality


def participant(programme, **values) -> Person:
    person = create_person(**values)
    db.session.add(ProgrammeParticipant(programme_id=programme.id, person_id=person.id))
    db.session.commit()
    return person


@pytest.fixture
def programmes():
    return create_programme(name="Digital municipalities"), create_programme(name="Students online")


@pytest.fixture
def manager(client, programmes):
    user = create_user(Role.MANAGER, programme=programmes[0])
    login(client, user)
    return user


def csv_upload(text: str, name="people.csv"):
    return {"file": (io.BytesIO(text.encode("utf-8-sig")), name)}


# --- My profile ----------------------------------------------------------------------------


def test_profile_shows_email_read_only_and_account_links(client):
    user = create_user(first_name="Drita", email="drita@example.org")
    login(client, user)
    page = client.get("/profile").get_data(as_text=True)
    assert "drita@example.org" in page
    assert 'name="email"' not in page
    assert "/auth/password" in page and "/auth/sessions" in page


def test_profile_saves_own_details_and_language(client):
    institution = services.create_institution(
        name="Komuna e Gjakovës",
        municipality_id=municipality("gjakove").id,
        type_=InstitutionType.MUNICIPALITY,
    )
    user = create_user(email="drita@example.org")
    login(client, user)
    assert "Komuna e Gjakovës (Gjakovë/Đakovica)" in client.get("/profile").text
    response = client.post(
        "/profile",
        data={
            "first_name": "Drita",
            "last_name": "Çeku",
            "phone": "+383 44 555 666",
            "sex": "female",
            "birth_year": "1987",
            "age_band": "",
            "municipality_id": str(municipality("gjakove").id),
            "institution_id": str(institution.id),
            "position": "Zyrtare",
            "department": "Drejtoria e Arsimit",
            "target_group": "municipal_official",
            "consent_photos": "y",
            "locale": "sq",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, user.person_id)
    assert (person.last_name, person.birth_year, person.sex) == ("Çeku", 1987, Sex.FEMALE)
    assert person.municipality_id == municipality("gjakove").id
    assert person.institution_id == institution.id
    assert person.consent_photos and not person.consent_public_name
    assert person.email == "drita@example.org"
    assert db.session.get(User, user.id).locale == "sq"


def test_profile_keeps_an_age_band_only_without_a_year(client):
    user = create_user(birth_year=None)
    login(client, user)
    client.post(
        "/profile",
        data={
            "first_name": "A",
            "last_name": "B",
            "sex": "undisclosed",
            "birth_year": "",
            "age_band": "25-29",
            "target_group": "other",
            "locale": "en",
        },
    )
    db.session.expire_all()
    person = db.session.get(Person, user.person_id)
    assert (person.birth_year, person.age_band) == (None, "25-29")


@pytest.mark.parametrize("year", ["2020", "1900", "nineteen"])
def test_profile_rejects_a_bad_birth_year_and_keeps_the_input(client, year):
    user = create_user(first_name="Drita", birth_year=1990)
    login(client, user)
    response = client.post(
        "/profile",
        data={
            "first_name": "Changed",
            "last_name": "Name",
            "sex": "female",
            "birth_year": year,
            "target_group": "other",
            "locale": "en",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="birth_year-error"' in page
    assert f'value="{year}"' in page
    assert 'value="Changed"' in page
    db.session.expire_all()
    person = db.session.get(Person, user.person_id)
    assert (person.first_name, person.birth_year) == ("Drita", 1990)


def test_profile_requires_sign_in(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


# --- The people list -----------------------------------------------------------------------


def test_people_list_is_for_managers(client):
    login(client, create_user(Role.LEARNER))
    assert client.get("/people").status_code == 403


def test_people_list_shows_only_participants_of_managed_programmes(client, programmes, manager):
    mine, theirs = programmes
    participant(mine, first_name="Mimoza", last_name="Krasniqi")
    participant(theirs, first_name="Teuta", last_name="Hoxha")
    page = client.get("/people").get_data(as_text=True)
    assert "Mimoza Krasniqi" in page
    assert "Teuta Hoxha" not in page
    # Asking for the other programme's filter does not widen the scope.
    page = client.get(f"/people?programme={theirs.id}").get_data(as_text=True)
    assert "Teuta Hoxha" not in page


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Gjakove", True),
        ("gjakovë", True),
        ("Dordevic", True),
        ("Djordjevic", True),
        ("đorđević", True),
        ("milica gjak", True),
        ("milica@example", True),
        ("Petrović", False),
    ],
)
def test_people_search_ignores_case_and_diacritics(client, programmes, manager, query, found):
    participant(
        programmes[0], first_name="Milica", last_name="Đorđević-Gjakovë", email="milica@example.org"
    )
    page = client.get("/people", query_string={"q": query}).get_data(as_text=True)
    assert ("Milica Đorđević-Gjakovë" in page) is found


def test_people_filters(client, programmes, manager):
    mine = programmes[0]
    participant(
        mine,
        first_name="Ana",
        last_name="Official",
        municipality=municipality("peje"),
        target_group=TargetGroup.MUNICIPAL_OFFICIAL,
    )
    participant(
        mine,
        first_name="Besa",
        last_name="Student",
        municipality=municipality("prizren"),
        target_group=TargetGroup.STUDENT,
        needs_review=True,
    )
    page = client.get("/people", query_string={"municipality": municipality("peje").id}).text
    assert "Ana Official" in page and "Besa Student" not in page
    page = client.get("/people", query_string={"target_group": "student"}).text
    assert "Besa Student" in page and "Ana Official" not in page
    page = client.get("/people", query_string={"needs_review": "y"}).text
    assert "Besa Student" in page and "Ana Official" not in page
    page = client.get("/people", query_string={"programme": mine.id}).text
    assert "Besa Student" in page and "Ana Official" in page


def test_people_list_paginates(client, programmes, manager):
    for n in range(30):
        participant(programmes[0], first_name=f"P{n:02d}", last_name="Gashi")
    first = client.get("/people").text
    second = client.get("/people?page=2").text
    assert first.count("/people/") - first.count("/people/import") >= 25
    assert "Page 1 of 2" in first and "Page 2 of 2" in second


def _count_queries(client, url) -> int:
    statements = []

    def record(*args, **kwargs):
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_people_list_query_count_does_not_grow_with_the_page(client, programmes, manager):
    def add(n, offset):
        for i in range(n):
            institution = services.create_institution(
                name=f"Institution {offset + i}",
                municipality_id=municipality("peje").id,
                type_=InstitutionType.MUNICIPALITY,
            )
            participant(
                programmes[0],
                first_name=f"N{offset + i}",
                institution=institution,
                municipality=municipality("peje"),
            )

    add(2, 0)
    few = _count_queries(client, "/people")
    add(20, 100)
    many = _count_queries(client, "/people")
    assert few == many


# --- Person pages --------------------------------------------------------------------------


def test_manager_sees_and_edits_only_people_of_their_programmes(client, programmes, manager):
    mine, theirs = programmes
    own = participant(mine, first_name="Mimoza")
    other = participant(theirs, first_name="Teuta")
    assert client.get(f"/people/{own.id}").status_code == 200
    assert client.get(f"/people/{own.id}/edit").status_code == 200
    assert client.get(f"/people/{other.id}").status_code == 403
    assert client.get(f"/people/{other.id}/edit").status_code == 403
    assert client.post(f"/people/{other.id}/edit", data={"first_name": "X"}).status_code == 403
    assert client.get("/people/999999").status_code == 404


def test_admin_sees_everyone(client, programmes):
    other = participant(programmes[1], first_name="Teuta")
    login(client, create_user(Role.ADMIN))
    assert client.get(f"/people/{other.id}").status_code == 200


def test_learner_cannot_open_person_pages(client, programmes):
    learner = create_user(Role.LEARNER)
    login(client, learner)
    assert client.get(f"/people/{learner.person_id}").status_code == 403


def _edit_form(person, **changes):
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email or "",
        "sex": person.sex.value,
        "birth_year": str(person.birth_year or ""),
        "age_band": "",
        "municipality_id": str(person.municipality_id or ""),
        "institution_id": "",
        "target_group": person.target_group.value,
    }
    data.update(changes)
    return data


def test_edit_clears_needs_review(client, programmes, manager):
    person = participant(programmes[0], needs_review=True, phone=None)
    form = _edit_form(person, phone="+383 49 000 111", email="New@Example.org")
    response = client.post(f"/people/{person.id}/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert not person.needs_review
    assert person.phone == "+383 49 000 111"
    assert person.email == "new@example.org"


def test_edit_refuses_an_email_that_is_taken(client, programmes, manager):
    create_person(first_name="Owner", last_name="Person", email="taken@example.org")
    person = participant(programmes[0], needs_review=True, email="mine@example.org")
    response = client.post(
        f"/people/{person.id}/edit", data=_edit_form(person, email="taken@example.org", phone="123")
    )
    assert response.status_code == 200
    assert "taken@example.org already belongs to Owner Person" in response.text
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert (person.email, person.phone, person.needs_review) == ("mine@example.org", None, True)


# --- Import --------------------------------------------------------------------------------

GOOD_CSV = (
    "Emri;Mbiemri;Email;Gjinia;Viti i lindjes;Komuna;Institucioni\r\n"
    "Arbëresha;Çollaku;arberesha@example.org;F;1988;Gjakovë;Komuna e Gjakovës\r\n"
    "Dragan;Đorđević;dragan@example.org;M;1980;Gračanica;\r\n"
    "Bad;Row;not-an-email;Q;1800;Atlantis;\r\n"
)


def _uploads(app) -> list[Path]:
    folder = Path(app.instance_path) / "imports"
    return list(folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def _no_uploads_left(app):
    yield
    for path in _uploads(app):
        path.unlink()


def _token(page: str) -> str:
    marker = 'name="token" type="hidden" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_import_preview_then_confirm(app, client, programmes, manager):
    mine = programmes[0]
    people_before = db.session.scalar(sa.select(sa.func.count(Person.id)))
    response = client.post(
        f"/programmes/{mine.id}/people/import",
        data=csv_upload(GOOD_CSV),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Arbëresha" in page and "Đorđević" in page
    assert "Unknown municipality “Atlantis”" in page
    assert "Import 2 valid rows" in page
    # Nothing is saved at preview time; only the file waits on the server.
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == people_before
    assert len(_uploads(app)) == 1
    token = _token(page)
    assert token not in page.replace(f'value="{token}"', "")  # only in the hidden field

    response = client.post(f"/programmes/{mine.id}/people/import/confirm", data={"token": token})
    assert response.status_code == 200
    assert "Atlantis" in response.text  # the skipped row is listed
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == people_before + 2
    added = db.session.scalars(
        sa.select(Person.last_name)
        .join(ProgrammeParticipant, ProgrammeParticipant.person_id == Person.id)
        .where(ProgrammeParticipant.programme_id == mine.id)
    ).all()
    assert sorted(added) == ["Çollaku", "Đorđević"]
    assert _uploads(app) == []

    # The token is used up: a second confirmation saves nothing more.
    again = client.post(f"/programmes/{mine.id}/people/import/confirm", data={"token": token})
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == people_before + 2


def test_import_reads_an_xlsx_upload(client, programmes, manager):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["Ime", "Prezime", "Opština"])
    workbook.active.append(["Jelena", "Šćekić", "Zvečan"])
    out = io.BytesIO()
    workbook.save(out)
    response = client.post(
        f"/programmes/{programmes[0].id}/people/import",
        data={"file": (io.BytesIO(out.getvalue()), "ljudi.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Jelena" in response.text and "Import 1 valid row" in response.text


def test_import_cancel_discards_the_upload(app, client, programmes, manager):
    mine = programmes[0]
    page = client.post(
        f"/programmes/{mine.id}/people/import",
        data=csv_upload(GOOD_CSV),
        content_type="multipart/form-data",
    ).text
    response = client.post(
        f"/programmes/{mine.id}/people/import/confirm", data={"token": _token(page), "cancel": "1"}
    )
    assert response.status_code == 302
    assert _uploads(app) == []
    assert db.session.scalar(sa.select(sa.func.count(ProgrammeParticipant.id))) == 0


@pytest.mark.parametrize("token", ["../../secret_key", "short", "", "a" * 40])
def test_import_confirm_refuses_unknown_tokens(client, programmes, manager, token):
    response = client.post(
        f"/programmes/{programmes[0].id}/people/import/confirm", data={"token": token}
    )
    assert response.status_code == 302
    assert "/people/import" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(ProgrammeParticipant.id))) == 0


def test_import_confirm_refuses_a_token_from_another_browser(app, client, programmes, manager):
    mine = programmes[0]
    page = client.post(
        f"/programmes/{mine.id}/people/import",
        data=csv_upload(GOOD_CSV),
        content_type="multipart/form-data",
    ).text
    other_browser = app.test_client()
    login(other_browser, create_user(Role.MANAGER, programme=mine))
    response = other_browser.post(
        f"/programmes/{mine.id}/people/import/confirm", data={"token": _token(page)}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(ProgrammeParticipant.id))) == 0


def test_import_token_only_confirms_into_its_programme(client, programmes, manager):
    mine = programmes[0]
    also_mine = create_programme()
    db.session.add(
        ProgrammeMember(programme_id=also_mine.id, user_id=manager.id, role=Role.MANAGER)
    )
    db.session.commit()
    page = client.post(
        f"/programmes/{mine.id}/people/import",
        data=csv_upload(GOOD_CSV),
        content_type="multipart/form-data",
    ).text
    response = client.post(
        f"/programmes/{also_mine.id}/people/import/confirm", data={"token": _token(page)}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(ProgrammeParticipant.id))) == 0


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "people.csv", "empty"),
        (b"%PDF-1.4 first_name,last_name", "people.pdf", "Upload a CSV file"),
        (b"not a workbook", "people.xlsx", "not an Excel workbook"),
    ],
)
def test_import_upload_explains_a_bad_file(client, programmes, manager, content, name, message):
    response = client.post(
        f"/programmes/{programmes[0].id}/people/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert message in response.text
    assert db.session.scalar(sa.select(sa.func.count(ProgrammeParticipant.id))) == 0


def test_import_is_only_for_managers_of_that_programme(client, programmes, manager):
    theirs = programmes[1]
    assert client.get(f"/programmes/{theirs.id}/people/import").status_code == 403
    response = client.post(
        f"/programmes/{theirs.id}/people/import",
        data=csv_upload(GOOD_CSV),
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert (
        client.post(
            f"/programmes/{theirs.id}/people/import/confirm", data={"token": "a" * 40}
        ).status_code
        == 403
    )
    assert client.get("/programmes/999999/people/import").status_code == 404


def test_learner_cannot_import(client, programmes):
    login(client, create_user(Role.LEARNER))
    assert client.get(f"/programmes/{programmes[0].id}/people/import").status_code == 403
    assert client.get("/people/import-template.csv").status_code == 403


def test_import_template_download(client, manager):
    response = client.get("/people/import-template.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    header = response.data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("first_name;last_name;email")


def test_manager_cannot_redirect_an_account_holders_email(client):
    from app.auth.roles import Role
    from tests.conftest import create_programme, create_user, login

    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    learner = create_user()
    from app.programmes.services import add_participant

    add_participant(programme_id=programme.id, person=learner.person)
    db.session.commit()
    login(client, manager)
    form = client.get(f"/people/{learner.person_id}/edit")
    assert form.status_code == 200
    response = client.post(
        f"/people/{learner.person_id}/edit",
        data={
            "first_name": learner.person.first_name,
            "last_name": learner.person.last_name,
            "email": manager.person.email + ".evil",
            "sex": "female",
            "target_group": "other",
        },
    )
    assert b"only an administrator can change it" in response.data
    db.session.expire_all()
    assert db.session.get(type(learner.person), learner.person_id).email == learner.person.email

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.activities import services
from app.activities.models import Activity, ActivityParticipant
from app.auth.roles import Role
from app.extensions import db
from app.people.models import Person, Sex
from app.programmes.services import add_participant
from tests.activities.helpers import create_activity
from tests.conftest import create_person, create_programme, create_user, login
from tests.query_counter import count_queries


@pytest.fixture
def setup(client):
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    login(client, manager)
    return programme, manager


def _form(**values):
    data = {
        "type": "talkdigital",
        "title": "TalkDigital Prizren",
        "description": "",
        "day": "2026-07-14",
        "starts": "10:00",
        "ends": "12:30",
        "venue": "Qendra Rinore",
        "municipality_id": "",
    }
    data.update(values)
    return data


def _participants(programme, n, sex=Sex.FEMALE):
    people = [create_person(sex=sex) for _ in range(n)]
    for person in people:
        add_participant(programme_id=programme.id, person=person)
    db.session.commit()
    return people


@pytest.mark.parametrize("who", ["manager_elsewhere", "trainer", "learner"])
def test_others_may_not_open_activities(client, who):
    programme = create_programme()
    activity = create_activity(programme)
    if who == "manager_elsewhere":
        user = create_user(Role.MANAGER, programme=create_programme())
    else:
        user = create_user(Role(who), programme=programme)
    login(client, user)
    urls = [
        ("get", f"/programmes/{programme.id}/activities"),
        ("get", f"/programmes/{programme.id}/activities/new"),
        ("post", f"/programmes/{programme.id}/activities/new"),
        ("get", f"/activities/{activity.id}"),
        ("post", f"/activities/{activity.id}/edit"),
        ("post", f"/activities/{activity.id}/cancel"),
        ("post", f"/activities/{activity.id}/participants"),
        ("post", f"/activities/{activity.id}/attendance"),
        ("post", f"/activities/{activity.id}/at-the-door"),
    ]
    for method, url in urls:
        assert getattr(client, method)(url, data=_form()).status_code == 403, url
    assert not activity.cancelled


def test_manager_creates_an_activity_in_belgrade_time(client, setup):
    programme, _ = setup
    response = client.post(f"/programmes/{programme.id}/activities/new", data=_form())
    assert response.status_code == 302
    activity = db.session.scalar(sa.select(Activity))
    assert response.headers["Location"].endswith(f"/activities/{activity.id}")
    # 10:00 in July (CEST, UTC+2) is 08:00 UTC.
    assert activity.starts_at == datetime(2026, 7, 14, 8, 0)
    assert activity.ends_at == datetime(2026, 7, 14, 10, 30)
    assert activity.municipality_id is None and activity.title == "TalkDigital Prizren"
    listing = client.get(f"/programmes/{programme.id}/activities").get_data(as_text=True)
    assert "TalkDigital Prizren" in listing and "TalkDigital meeting" in listing


def test_activity_form_errors_keep_the_input(client, setup):
    programme, _ = setup
    data = _form(title="Forumi rajonal", type="regional_forum", starts="13:00", ends="12:00")
    response = client.post(f"/programmes/{programme.id}/activities/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "An activity must end after it starts." in page
    assert 'value="Forumi rajonal"' in page and '<option selected value="regional_forum">' in page
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 0


def test_edit_and_cancel(client, setup):
    programme, _ = setup
    activity = create_activity(programme)
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert 'value="10:00"' in form  # stored 09:00 UTC in March (CET)
    response = client.post(f"/activities/{activity.id}/edit", data=_form(title="Renamed"))
    assert response.status_code == 302
    assert client.post(f"/activities/{activity.id}/cancel").status_code == 302
    db.session.refresh(activity)
    assert activity.title == "Renamed" and activity.cancelled and activity.sequence == 2
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Cancelled" in page and "Add at the door" not in page


def test_search_register_and_mark_attendance(client, setup):
    programme, _ = setup
    activity = create_activity(programme)
    arta = create_person(first_name="Arta", last_name="Çeku", sex=Sex.FEMALE)
    add_participant(programme_id=programme.id, person=arta)
    db.session.commit()
    page = client.get(f"/activities/{activity.id}?q=ceku").get_data(as_text=True)
    assert "1 person found." in page and "Çeku, Arta" in page
    response = client.post(f"/activities/{activity.id}/participants", data={"person_ids": arta.id})
    assert response.status_code == 302
    participant = db.session.scalar(sa.select(ActivityParticipant))
    assert participant.person_id == arta.id and not participant.attended
    client.post(f"/activities/{activity.id}/attendance", data={"attended": participant.id})
    db.session.refresh(participant)
    assert participant.attended
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert re.search(rf'id="attended-{participant.id}"\s+checked', page)
    # A forged id from outside the manager's programmes is refused.
    stranger = create_person()
    add_participant(programme_id=create_programme().id, person=stranger)
    db.session.commit()
    response = client.post(
        f"/activities/{activity.id}/participants", data={"person_ids": stranger.id}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(ActivityParticipant.id))) == 1


@pytest.mark.parametrize("forged", ["9223372036854775808", "0", "-5"])
def test_register_and_attendance_refuse_ids_no_row_can_have(client, setup, forged):
    """Found by tests/fuzz: an id past the integer column overflowed the driver (a 500)."""
    programme, _ = setup
    activity = create_activity(programme)
    url = f"/activities/{activity.id}"
    assert client.post(f"{url}/participants", data={"person_ids": forged}).status_code < 500
    assert client.post(f"{url}/attendance", data={"attended": forged}).status_code < 500
    assert db.session.scalar(sa.select(sa.func.count(ActivityParticipant.id))) == 0


def test_add_at_the_door(client, setup):
    programme, _ = setup
    activity = create_activity(programme)
    data = {"first_name": "Blerta", "last_name": "Hoxha", "sex": "female", "target_group": "cso"}
    response = client.post(f"/activities/{activity.id}/at-the-door", data=data)
    assert response.status_code == 302
    person = db.session.scalar(sa.select(Person).where(Person.last_name == "Hoxha"))
    assert person.needs_review
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Added at the door" in page and "Needs review" in page


def test_add_at_the_door_errors_keep_the_input(client, setup):
    programme, _ = setup
    activity = create_activity(programme)
    create_person(email="known@example.org")
    data = {
        "first_name": "Valon",
        "last_name": "Morina",
        "sex": "male",
        "target_group": "media",
        "organisation": "Koha",
        "email": "known@example.org",
    }
    response = client.post(f"/activities/{activity.id}/at-the-door", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "already in Akademia" in page
    assert 'value="Valon"' in page and 'value="Koha"' in page
    assert '<option selected value="media">' in page
    assert db.session.scalar(sa.select(sa.func.count(ActivityParticipant.id))) == 0


def test_remove_participant(client, setup):
    programme, manager = setup
    activity = create_activity(programme)
    (person,) = _participants(programme, 1)
    services.register_people(
        activity=activity, person_ids=[person.id], visible_programme_ids=None, by=manager
    )
    db.session.commit()
    participant = db.session.scalar(sa.select(ActivityParticipant))
    url = f"/activities/{activity.id}/participants/{participant.id}/remove"
    assert client.post(url).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(ActivityParticipant.id))) == 0
    assert client.post(url).status_code == 404


def test_remove_participant_names_them_when_nothing_is_loaded_yet(client, setup):
    """A fresh request has not loaded the participant's person: the delete must not need it."""
    programme, manager = setup
    activity = create_activity(programme)
    (person,) = _participants(programme, 1)
    services.register_people(
        activity=activity, person_ids=[person.id], visible_programme_ids=None, by=manager
    )
    db.session.commit()
    participant = db.session.scalar(sa.select(ActivityParticipant))
    url = f"/activities/{activity.id}/participants/{participant.id}/remove"
    name = person.full_name
    db.session.expunge_all()
    response = client.post(url, follow_redirects=True)
    assert response.status_code == 200
    assert f"{name} is removed." in response.get_data(as_text=True)


def _fill(activity, manager, programme, women, men):
    people = _participants(programme, women, Sex.FEMALE) + _participants(programme, men, Sex.MALE)
    services.register_people(
        activity=activity, person_ids=[p.id for p in people], visible_programme_ids=None, by=manager
    )
    services.set_attendance(
        activity=activity,
        attended_ids={p.id for p in db.session.scalars(sa.select(ActivityParticipant))},
    )
    db.session.commit()


def test_activity_page_queries_do_not_grow_with_participants(client, setup):
    programme, manager = setup
    small, large = create_activity(programme), create_activity(programme)
    _fill(small, manager, programme, 2, 1)
    _fill(large, manager, programme, 15, 15)
    _participants(programme, 30)  # candidates to register
    small_id, large_id = small.id, large.id
    # Tests share the requests' database session: count each request from the same cold state.
    db.session.commit()  # expires everything and ends the transaction
    with count_queries() as few:
        page = client.get(f"/activities/{small_id}").get_data(as_text=True)
    assert page.count('name="attended"') == 3
    db.session.commit()  # expires everything and ends the transaction
    with count_queries() as many:
        page = client.get(f"/activities/{large_id}").get_data(as_text=True)
    assert page.count('name="attended"') == 30
    assert many.count == few.count
    # Attended, by sex, from one aggregate.
    assert "<strong>30</strong><span>Attended</span>" in page
    assert "<strong>15</strong><span>Women attended</span>" in page

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.activities import queries, services
from app.activities.models import ActivityParticipant
from app.auth.roles import Role
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.people.models import Institution, InstitutionType, Person, Sex, TargetGroup
from app.programmes.models import ProgrammeParticipant
from app.programmes.services import add_participant
from tests.activities.helpers import ENDS, STARTS, create_activity
from tests.conftest import create_person, create_programme, create_user


def _participant_of(programme, **values):
    person = create_person(**values)
    add_participant(programme_id=programme.id, person=person)
    db.session.commit()
    return person


def _fields(**values):
    fields = dict(
        type="research_workshop",
        title="Automated services in education",
        description=None,
        starts_at=STARTS,
        ends_at=ENDS,
        venue="Universiteti i Prishtinës",
    )
    fields.update(values)
    return services.ActivityFields(**fields)


def test_save_activity_checks_times_and_dates():
    programme = create_programme()
    with pytest.raises(DomainError) as error:
        services.save_activity(None, programme=programme, values=_fields(ends_at=STARTS))
    assert error.value.field == "ends_at"
    late = STARTS.replace(year=2029)
    with pytest.raises(DomainError) as error:
        services.save_activity(
            None, programme=programme, values=_fields(starts_at=late, ends_at=late + timedelta(1))
        )
    assert error.value.field == "starts_at"
    with pytest.raises(DomainError) as error:
        services.save_activity(None, programme=programme, values=_fields(title="  "))
    assert error.value.field == "title"


def test_editing_and_cancelling_raise_the_sequence():
    activity = create_activity(create_programme())
    services.save_activity(activity, programme=activity.programme, values=_fields(title="New"))
    assert activity.sequence == 1 and activity.title == "New"
    services.cancel_activity(activity=activity)
    assert activity.cancelled and activity.sequence == 2
    with pytest.raises(DomainError):
        services.cancel_activity(activity=activity)


def test_register_people_adds_them_to_the_programme_once():
    programme, other = create_programme(), create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    activity = create_activity(programme)
    own = _participant_of(programme)
    from_other = _participant_of(other)  # a participant of another programme the manager runs
    added = services.register_people(
        activity=activity,
        person_ids=[own.id, from_other.id],
        visible_programme_ids={programme.id, other.id},
        by=manager,
    )
    again = services.register_people(
        activity=activity, person_ids=[own.id], visible_programme_ids=None, by=manager
    )
    db.session.commit()
    assert (added, again) == (2, 0)
    assert db.session.scalar(sa.select(sa.func.count(ActivityParticipant.id))) == 2
    in_programme = set(
        db.session.scalars(
            sa.select(ProgrammeParticipant.person_id).where(
                ProgrammeParticipant.programme_id == programme.id
            )
        )
    )
    assert in_programme == {own.id, from_other.id}


def test_register_refuses_people_the_manager_cannot_see():
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    activity = create_activity(programme)
    stranger = _participant_of(create_programme())
    with pytest.raises(NotAllowed):
        services.register_people(
            activity=activity,
            person_ids=[stranger.id],
            visible_programme_ids={programme.id},
            by=manager,
        )
    with pytest.raises(DomainError):
        services.register_people(
            activity=activity, person_ids=[], visible_programme_ids=None, by=manager
        )


def test_set_attendance_and_counts_by_sex():
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    activity = create_activity(programme)
    people = [
        _participant_of(programme, sex=sex)
        for sex in (Sex.FEMALE, Sex.FEMALE, Sex.MALE, Sex.UNDISCLOSED)
    ]
    services.register_people(
        activity=activity,
        person_ids=[p.id for p in people],
        visible_programme_ids=None,
        by=manager,
    )
    rows = {p.person_id: p.id for p in queries.participants(activity.id)}
    came = {rows[people[0].id], rows[people[2].id], rows[people[3].id]}
    assert services.set_attendance(activity=activity, attended_ids=came | {999999}) == 3
    counts = queries.attended_by_sex(activity.id)
    assert (counts.female, counts.male, counts.undisclosed, counts.total) == (1, 1, 1, 3)
    # Unticking marks as not attended.
    services.set_attendance(activity=activity, attended_ids={rows[people[0].id]})
    assert queries.attended_by_sex(activity.id).total == 1


def test_add_at_the_door_creates_a_person_to_review():
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    activity = create_activity(programme)
    participant = services.add_at_door(
        activity=activity,
        values=services.DoorPerson(
            first_name=" Dragana ",
            last_name="Đorđević",
            sex=Sex.FEMALE,
            target_group=TargetGroup.MEDIA,
            organisation="Radio Kim",
            email="Dragana@Example.org",
        ),
        by=manager,
    )
    db.session.commit()
    person = participant.person
    assert person.needs_review and person.email == "dragana@example.org"
    assert person.first_name == "Dragana" and person.name_key == "dragana djordjevic"
    assert participant.attended and not participant.registered_in_advance
    assert person.institution.name == "Radio Kim"
    assert person.institution.type == InstitutionType.MEDIA  # from the target group
    assert db.session.scalar(
        sa.select(ProgrammeParticipant.id).where(
            ProgrammeParticipant.programme_id == programme.id,
            ProgrammeParticipant.person_id == person.id,
        )
    )
    # The same organisation again is found, not duplicated.
    services.add_at_door(
        activity=activity,
        values=services.DoorPerson(first_name="Besa", last_name="Gashi", organisation="radio kim"),
        by=manager,
    )
    assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 1


def test_add_at_the_door_refuses_a_known_email_and_a_cancelled_activity():
    programme = create_programme()
    manager = create_user(Role.MANAGER, programme=programme)
    activity = create_activity(programme)
    create_person(email="taken@example.org")
    with pytest.raises(Conflict) as error:
        services.add_at_door(
            activity=activity,
            values=services.DoorPerson(first_name="A", last_name="B", email="TAKEN@example.org"),
            by=manager,
        )
    assert error.value.field == "email"
    with pytest.raises(DomainError) as error:
        services.add_at_door(
            activity=activity, values=services.DoorPerson(first_name="A", last_name=" "), by=manager
        )
    assert error.value.field == "last_name"
    services.cancel_activity(activity=activity)
    with pytest.raises(DomainError):
        services.add_at_door(
            activity=activity, values=services.DoorPerson(first_name="A", last_name="B"), by=manager
        )
    assert db.session.scalar(sa.select(sa.func.count(Person.id).filter(Person.needs_review))) == 0


def test_candidates_search_by_name_or_email_without_diacritics():
    programme, other = create_programme(), create_programme()
    activity = create_activity(programme)
    djordje = _participant_of(programme, first_name="Đorđe", last_name="Čolić")
    _participant_of(programme, first_name="Arta", last_name="Berisha", email="arta@kdi.org")
    far = _participant_of(other, first_name="Đorđe", last_name="Nikolić")
    found = queries.candidates(activity=activity, q="dorde colic", visible_programme_ids=None)
    assert [p.id for p in found] == [djordje.id]
    found = queries.candidates(activity=activity, q="KDI.ORG", visible_programme_ids=None)
    assert [p.first_name for p in found] == ["Arta"]
    scoped = queries.candidates(activity=activity, q="dorde", visible_programme_ids={programme.id})
    assert far.id not in {p.id for p in scoped}
    # Without a search: the programme's own participants only.
    listed = queries.candidates(activity=activity, q="", visible_programme_ids=None)
    assert {p.last_name for p in listed} == {"Čolić", "Berisha"}
    # Those registered already are not offered again.
    manager = create_user(Role.MANAGER, programme=programme)
    services.register_people(
        activity=activity, person_ids=[djordje.id], visible_programme_ids=None, by=manager
    )
    listed = queries.candidates(activity=activity, q="", visible_programme_ids=None)
    assert [p.last_name for p in listed] == ["Berisha"]

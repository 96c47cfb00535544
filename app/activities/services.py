"""Activities and their participants: every participation also makes the person a programme
participant, so it counts in the donor reports. Flushes, never commits."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import audit
from app.auth.models import User
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.people.models import Institution, InstitutionType, Person, Sex, TargetGroup
from app.people.services import DEFAULT_INSTITUTION_TYPE, create_institution, find_institution
from app.places.models import Municipality
from app.programmes.models import Programme, ProgrammeParticipant
from app.programmes.services import add_participant
from app.text import normalize_email, normalize_name

from .models import Activity, ActivityParticipant, ActivityType


@dataclass
class ActivityFields:
    type: ActivityType | str
    title: str
    description: str | None
    starts_at: datetime  # naive UTC
    ends_at: datetime
    venue: str
    municipality_id: int | None = None


@dataclass
class DoorPerson:
    """The minimum asked of someone added at the door."""

    first_name: str
    last_name: str
    sex: Sex = Sex.UNDISCLOSED
    target_group: TargetGroup = TargetGroup.OTHER
    organisation: str | None = None
    institution_type: InstitutionType | None = None
    email: str | None = None


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check(programme: Programme, values: ActivityFields) -> None:
    if not _clean(values.title):
        raise DomainError(_("Enter a title."), field="title")
    if not _clean(values.venue):
        raise DomainError(_("Enter the venue."), field="venue")
    if values.ends_at <= values.starts_at:
        raise DomainError(_("An activity must end after it starts."), field="ends_at")
    if not (
        programme.starts_on <= values.starts_at.date()
        and values.ends_at.date() <= programme.ends_on + timedelta(days=1)
    ):
        raise DomainError(
            _("Activities must take place within the programme's dates."), field="starts_at"
        )
    if values.municipality_id and db.session.get(Municipality, values.municipality_id) is None:
        raise DomainError(_("Choose a municipality from the list."), field="municipality_id")


def save_activity(
    activity: Activity | None, *, programme: Programme, values: ActivityFields
) -> Activity:
    """Create or update an activity of the programme (times in naive UTC)."""
    _check(programme, values)
    if activity is None:
        activity = Activity(programme=programme)
        db.session.add(activity)
    else:
        # Calendar clients replace an event only when its sequence grows.
        activity.sequence += 1
    activity.type = ActivityType(values.type)
    activity.title = values.title.strip()
    activity.description = _clean(values.description)
    activity.starts_at, activity.ends_at = values.starts_at, values.ends_at
    activity.venue = values.venue.strip()
    activity.municipality_id = values.municipality_id or None
    db.session.flush()
    return activity


def cancel_activity(*, activity: Activity) -> None:
    """Cancel an activity; its participants stay recorded."""
    if activity.cancelled:
        raise DomainError(_("This activity is already cancelled."))
    activity.cancelled = True
    activity.sequence += 1
    db.session.flush()


def _check_open(activity: Activity) -> None:
    if activity.cancelled:
        raise DomainError(_("This activity is cancelled; participants cannot be changed."))


def register_people(
    *,
    activity: Activity,
    person_ids: list[int],
    visible_programme_ids: set[int] | None,
    by: User,
) -> int:
    """Register people in advance; returns how many were new. Those already registered are kept.

    Only people of the programmes the user may see (None: everyone) can be registered, so a
    forged id cannot pull in a stranger.
    """
    _check_open(activity)
    wanted = set(person_ids)
    if not wanted:
        raise DomainError(_("Tick at least one person to register."), field="person_ids")
    query = sa.select(Person).where(Person.id.in_(wanted))
    if visible_programme_ids is not None:
        query = query.where(
            Person.id.in_(
                sa.select(ProgrammeParticipant.person_id).where(
                    ProgrammeParticipant.programme_id.in_(visible_programme_ids)
                )
            )
        )
    people = list(db.session.scalars(query))
    if len(people) != len(wanted):
        raise NotAllowed(_("Choose people from the search results."), field="person_ids")
    registered = set(
        db.session.scalars(
            sa.select(ActivityParticipant.person_id).where(
                ActivityParticipant.activity_id == activity.id,
                ActivityParticipant.person_id.in_(wanted),
            )
        )
    )
    added = 0
    for person in people:
        if person.id in registered:
            continue
        db.session.add(
            ActivityParticipant(
                activity=activity, person=person, registered_in_advance=True, added_by_id=by.id
            )
        )
        add_participant(programme_id=activity.programme_id, person=person)
        added += 1
    db.session.flush()
    return added


def set_attendance(*, activity: Activity, attended_ids: set[int]) -> int:
    """Tick who came: participants (by participation id) in attended_ids attended, the others
    did not. Returns how many attended."""
    _check_open(activity)
    participants = db.session.scalars(
        sa.select(ActivityParticipant).where(ActivityParticipant.activity_id == activity.id)
    ).all()
    for participant in participants:
        attended = participant.id in attended_ids
        if participant.attended != attended:
            _audit_attendance(activity, participant.person_id, before=participant.attended)
        participant.attended = attended
    db.session.flush()
    return sum(p.attended for p in participants)


def _audit_attendance(activity: Activity, person_id: int, *, before: bool | None) -> None:
    audit.record(
        "activity.attendance",
        subject_type="activity",
        subject_id=activity.id,
        person_id=person_id,
        programme_id=activity.programme_id,
        before={"attended": before},
        after={"attended": not before},
    )


def _institution(name: str | None, type_: InstitutionType | None, group: TargetGroup):
    name = _clean(name)
    if name is None:
        return None
    candidates = list(
        db.session.scalars(
            sa.select(Institution).where(Institution.name_key == normalize_name(name))
        )
    )
    found = find_institution(name=name, municipality_id=None, candidates=candidates)
    return found or create_institution(
        name=name, municipality_id=None, type_=type_ or DEFAULT_INSTITUTION_TYPE[group]
    )


def add_at_door(*, activity: Activity, values: DoorPerson, by: User) -> ActivityParticipant:
    """Someone who came without registering: created with the minimum fields, marked as
    attended, and flagged for a manager to complete."""
    _check_open(activity)
    first, last = _clean(values.first_name), _clean(values.last_name)
    if not first:
        raise DomainError(_("Enter the first name."), field="first_name")
    if not last:
        raise DomainError(_("Enter the last name."), field="last_name")
    email = normalize_email(values.email)
    if email and db.session.scalar(sa.select(Person.id).where(Person.email == email)):
        # Neutral on purpose: whose address it is stays private.
        raise Conflict(
            _(
                "This e-mail address is already in Akademia: find the person with the search "
                "above, or leave the e-mail empty and a manager will complete the record."
            ),
            field="email",
        )
    person = Person(
        first_name=first,
        last_name=last,
        email=email,
        sex=values.sex,
        target_group=values.target_group,
        institution=_institution(values.organisation, values.institution_type, values.target_group),
        needs_review=True,
    )
    db.session.add(person)
    db.session.flush()
    participant = ActivityParticipant(
        activity=activity,
        person=person,
        registered_in_advance=False,
        attended=True,
        added_by_id=by.id,
    )
    db.session.add(participant)
    add_participant(programme_id=activity.programme_id, person=person)
    db.session.flush()
    audit.record(
        "activity.attendance",
        subject_type="activity",
        subject_id=activity.id,
        actor=by,
        person_id=person.id,
        programme_id=activity.programme_id,
        before={"attended": None},
        after={"attended": True},
    )
    return participant


def remove_participant(*, participant: ActivityParticipant) -> None:
    """Undo a registration made by mistake; the person stays a programme participant."""
    _check_open(participant.activity)
    db.session.delete(participant)
    db.session.flush()

"""Reads for the activity pages: a fixed number of queries whatever the number of participants."""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.people.models import Person, Sex
from app.people.queries import loose_key, loose_key_sql
from app.programmes.models import ProgrammeParticipant
from app.text import normalize_name

from .models import Activity, ActivityParticipant

MIN_SEARCH = 2
CANDIDATES = 25


def activities_query(programme_id: int) -> sa.Select:
    """The programme's activities, the latest date first."""
    return (
        sa.select(Activity)
        .where(Activity.programme_id == programme_id)
        .options(so.joinedload(Activity.municipality))
        .order_by(Activity.starts_at.desc(), Activity.id.desc())
    )


@dataclass
class Counts:
    registered: int = 0
    attended: int = 0


def counts_by_activity(activity_ids: list[int]) -> dict[int, Counts]:
    result = {activity_id: Counts() for activity_id in activity_ids}
    if not activity_ids:
        return result
    rows = db.session.execute(
        sa.select(
            ActivityParticipant.activity_id,
            sa.func.count(ActivityParticipant.id),
            sa.func.count(ActivityParticipant.id).filter(ActivityParticipant.attended.is_(True)),
        )
        .where(ActivityParticipant.activity_id.in_(activity_ids))
        .group_by(ActivityParticipant.activity_id)
    )
    for activity_id, registered, attended in rows:
        result[activity_id] = Counts(registered=registered, attended=attended)
    return result


def load_activity(activity_id: int) -> Activity | None:
    return db.session.scalar(
        sa.select(Activity)
        .where(Activity.id == activity_id)
        .options(so.joinedload(Activity.programme), so.joinedload(Activity.municipality))
    )


def load_participant(activity_id: int, participant_id: int) -> ActivityParticipant | None:
    return db.session.scalar(
        sa.select(ActivityParticipant)
        .where(
            ActivityParticipant.id == participant_id,
            ActivityParticipant.activity_id == activity_id,
        )
        .options(so.joinedload(ActivityParticipant.activity))
    )


def participants(activity_id: int) -> list[ActivityParticipant]:
    """Everyone registered or added at the door, by name, with what the page shows of them."""
    return list(
        db.session.scalars(
            sa.select(ActivityParticipant)
            .join(ActivityParticipant.person)
            .where(ActivityParticipant.activity_id == activity_id)
            .options(
                so.contains_eager(ActivityParticipant.person).joinedload(Person.institution),
            )
            .order_by(Person.last_name, Person.first_name, Person.id)
        )
    )


@dataclass
class SexCounts:
    """Attended participants, disaggregated by sex as donors ask."""

    female: int = 0
    male: int = 0
    undisclosed: int = 0

    @property
    def total(self) -> int:
        return self.female + self.male + self.undisclosed


def attended_by_sex(activity_id: int) -> SexCounts:
    """One aggregate query."""
    rows = db.session.execute(
        sa.select(Person.sex, sa.func.count(ActivityParticipant.id))
        .join(Person, Person.id == ActivityParticipant.person_id)
        .where(
            ActivityParticipant.activity_id == activity_id,
            ActivityParticipant.attended.is_(True),
        )
        .group_by(Person.sex)
    )
    counts = SexCounts()
    for sex, count in rows:
        setattr(counts, Sex(sex).value, count)
    return counts


def _name_or_email(q: str):
    raw = q.strip().lower()
    if "@" in raw:
        return sa.func.lower(Person.email).contains(raw, autoescape=True)
    return sa.and_(
        sa.true(),
        *(
            sa.or_(
                loose_key_sql(Person.name_key).contains(loose_key(token), autoescape=True),
                sa.func.lower(Person.email).contains(token, autoescape=True),
            )
            for token in normalize_name(q).split()
        ),
    )


def candidates(
    *,
    activity: Activity,
    q: str | None,
    visible_programme_ids: set[int] | None,
    limit: int = CANDIDATES,
) -> list[Person]:
    """People who may be registered and are not yet.

    Without a search: the programme's own participants. With one (name or e-mail, diacritics
    and case ignored): anyone in the programmes the user may see (None: everyone).
    """
    registered = sa.select(ActivityParticipant.person_id).where(
        ActivityParticipant.activity_id == activity.id
    )
    query = (
        sa.select(Person)
        .where(Person.id.not_in(registered))
        .options(so.joinedload(Person.institution))
        .order_by(Person.last_name, Person.first_name, Person.id)
        .limit(limit)
    )
    if q and len(q.strip()) >= MIN_SEARCH:
        query = query.where(_name_or_email(q))
        scope = (
            None
            if visible_programme_ids is None
            else ProgrammeParticipant.programme_id.in_(visible_programme_ids)
        )
    else:
        scope = ProgrammeParticipant.programme_id == activity.programme_id
    if scope is not None:
        query = query.where(Person.id.in_(sa.select(ProgrammeParticipant.person_id).where(scope)))
    return list(db.session.scalars(query))

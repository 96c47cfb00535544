"""Reads for the people pages: scoped to the programmes a manager runs, constant query counts."""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.extensions import db
from app.programmes.models import Programme, ProgrammeParticipant
from app.text import normalize_name

from .models import (
    INSTITUTION_TYPE_LABELS,
    SEX_LABELS,
    TARGET_GROUP_LABELS,
    Institution,
    Person,
    TargetGroup,
)


@dataclass
class PeopleFilters:
    q: str | None = None
    programme_id: int | None = None
    municipality_id: int | None = None
    target_group: TargetGroup | None = None
    needs_review: bool = False


def loose_key(key: str) -> str:
    """A name key that also forgives "đ" typed as "d": "Dordevic" meets "Đorđević" (djordjevic)."""
    return key.replace("dj", "d")


def loose_key_sql(expression):
    """loose_key() in SQL, the same on SQLite and PostgreSQL."""
    return sa.func.replace(expression, "dj", "d")


def _search_condition(q: str):
    raw = q.strip().lower()
    if "@" in raw:
        return sa.func.lower(Person.email).contains(raw, autoescape=True)
    conditions = [
        sa.or_(
            loose_key_sql(Person.name_key).contains(loose_key(token), autoescape=True),
            sa.func.lower(Person.email).contains(token, autoescape=True),
        )
        for token in normalize_name(q).split()
    ]
    return sa.and_(sa.true(), *conditions)


def people_query(programme_ids: set[int] | None, filters: PeopleFilters) -> sa.Select:
    """People taking part in the given programmes (None: everyone), filtered, name order."""
    query = sa.select(Person).options(
        so.joinedload(Person.municipality), so.joinedload(Person.institution)
    )
    if programme_ids is not None:
        query = query.where(
            Person.id.in_(
                sa.select(ProgrammeParticipant.person_id).where(
                    ProgrammeParticipant.programme_id.in_(programme_ids)
                )
            )
        )
    if filters.programme_id:
        query = query.where(
            Person.id.in_(
                sa.select(ProgrammeParticipant.person_id).where(
                    ProgrammeParticipant.programme_id == filters.programme_id
                )
            )
        )
    if filters.q and filters.q.strip():
        query = query.where(_search_condition(filters.q))
    if filters.municipality_id:
        query = query.where(Person.municipality_id == filters.municipality_id)
    if filters.target_group:
        query = query.where(Person.target_group == filters.target_group)
    if filters.needs_review:
        query = query.where(Person.needs_review.is_(True))
    return query.order_by(Person.last_name, Person.first_name, Person.id)


def programme_choices(programme_ids: set[int] | None) -> list[tuple[int, str]]:
    query = sa.select(Programme.id, Programme.code, Programme.name).order_by(Programme.code)
    if programme_ids is not None:
        query = query.where(Programme.id.in_(programme_ids))
    return [(row.id, f"{row.code} · {row.name}") for row in db.session.execute(query)]


def institution_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        sa.select(Institution)
        .options(so.joinedload(Institution.municipality))
        .order_by(Institution.name, Institution.id)
    )
    return [
        (i.id, f"{i.name} ({i.municipality.display_name})" if i.municipality else i.name)
        for i in rows
    ]


def load_person(person_id: int) -> Person | None:
    return db.session.scalar(
        sa.select(Person)
        .where(Person.id == person_id)
        .options(so.joinedload(Person.municipality), so.joinedload(Person.institution))
    )


def programmes_of_person(person_id: int, programme_ids: set[int] | None) -> list[Programme]:
    """The programmes the person takes part in, limited to those the viewer may see."""
    query = (
        sa.select(Programme)
        .join(ProgrammeParticipant, ProgrammeParticipant.programme_id == Programme.id)
        .where(ProgrammeParticipant.person_id == person_id)
        .order_by(Programme.code)
    )
    if programme_ids is not None:
        query = query.where(Programme.id.in_(programme_ids))
    return list(db.session.scalars(query))


@dataclass
class PersonRow:
    """What the people list shows of a person."""

    id: int
    name: str
    email: str
    municipality: str
    institution: str
    position: str
    target_group: str
    needs_review: bool


def person_rows(people: list[Person]) -> list[PersonRow]:
    return [
        PersonRow(
            id=p.id,
            name=p.full_name,
            email=p.email or "",
            municipality=p.municipality.display_name if p.municipality else "",
            institution=p.institution.name if p.institution else "",
            position=p.position or "",
            target_group=str(TARGET_GROUP_LABELS[p.target_group]),
            needs_review=p.needs_review,
        )
        for p in people
    ]


def person_facts(person: Person) -> list[tuple[str, str]]:
    """Label and value pairs for the person's page; empty values show as a dash."""
    institution = ""
    if person.institution:
        institution = (
            f"{person.institution.name} · {INSTITUTION_TYPE_LABELS[person.institution.type]}"
        )
    age = str(person.birth_year) if person.birth_year else (person.age_band or "")
    facts = [
        (_("E-mail"), person.email),
        (_("Phone"), person.phone),
        (_("Sex"), SEX_LABELS[person.sex]),
        (_("Birth year or age group"), age),
        (_("Municipality"), person.municipality.display_name if person.municipality else ""),
        (_("Institution"), institution),
        (_("Position"), person.position),
        (_("Department"), person.department),
        (_("Target group"), TARGET_GROUP_LABELS[person.target_group]),
        (_("Photos may be published"), _("Yes") if person.consent_photos else _("No")),
        (
            _("Name may appear in public reports"),
            _("Yes") if person.consent_public_name else _("No"),
        ),
    ]
    return [(str(label), str(value) if value else "—") for label, value in facts]

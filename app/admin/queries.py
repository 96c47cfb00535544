"""Reads for the administration pages: counts in SQL, lists with what they show eager-loaded."""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User, UserRole, UserSession
from app.auth.roles import Role
from app.extensions import db
from app.people.models import Institution, InstitutionType, Person
from app.places.models import Municipality
from app.programmes.models import Programme, ProgrammeMember
from app.text import normalize_name


@dataclass
class UserFilters:
    q: str | None = None
    role: Role | None = None
    active: bool | None = None


@dataclass
class InstitutionFilters:
    q: str | None = None
    type: InstitutionType | None = None


def overview_counts() -> dict[str, int]:
    """The numbers on the administration start page, in one query."""
    count = lambda column: sa.select(sa.func.count(column)).scalar_subquery()  # noqa: E731
    row = db.session.execute(
        sa.select(
            count(User.id).label("users"),
            sa.select(sa.func.count(User.id))
            .where(User.active.is_(False))
            .scalar_subquery()
            .label("inactive"),
            sa.select(sa.func.count(sa.distinct(UserRole.user_id)))
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role == Role.ADMIN, User.active.is_(True))
            .scalar_subquery()
            .label("admins"),
            count(UserSession.id).label("sessions"),
            count(Person.id).label("people"),
            count(Institution.id).label("institutions"),
            count(Programme.id).label("programmes"),
            count(Municipality.id).label("municipalities"),
        )
    ).one()
    return dict(row._mapping)


def _words(text: str | None) -> list[str]:
    return normalize_name(text).split()


def users_query(filters: UserFilters) -> sa.Select:
    """Accounts with their person and roles; every word must appear in the name or e-mail."""
    query = (
        sa.select(User)
        .join(User.person)
        .options(so.contains_eager(User.person), so.selectinload(User.role_rows))
        .order_by(Person.last_name, Person.first_name, User.id)
    )
    raw = (filters.q or "").strip().lower()
    words = _words(filters.q)
    if raw:
        # The name key folds diacritics ("Çitaku" matches "citaku"); e-mails are matched as typed.
        by_name = (
            sa.and_(*(Person.name_key.contains(w, autoescape=True) for w in words))
            if words
            else sa.false()
        )
        by_email = sa.func.lower(Person.email).contains(raw, autoescape=True)
        query = query.where(sa.or_(by_name, by_email))
    if filters.role is not None:
        query = query.where(
            User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == filters.role))
        )
    if filters.active is not None:
        query = query.where(User.active.is_(filters.active))
    return query


def load_user(user_id: int) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.id == user_id).options(so.selectinload(User.role_rows))
    )


def user_memberships(user_id: int) -> list[ProgrammeMember]:
    return list(
        db.session.scalars(
            sa.select(ProgrammeMember)
            .join(ProgrammeMember.programme)
            .where(ProgrammeMember.user_id == user_id)
            .options(so.contains_eager(ProgrammeMember.programme))
            .order_by(Programme.code, ProgrammeMember.role)
        )
    )


def institutions_query(filters: InstitutionFilters) -> sa.Select:
    query = (
        sa.select(Institution)
        .options(so.joinedload(Institution.municipality))
        .order_by(Institution.name_key, Institution.id)
    )
    for word in _words(filters.q):
        query = query.where(Institution.name_key.contains(word, autoescape=True))
    if filters.type is not None:
        query = query.where(Institution.type == filters.type)
    return query


def people_per_institution(institution_ids: list[int]) -> dict[int, int]:
    if not institution_ids:
        return {}
    rows = db.session.execute(
        sa.select(Person.institution_id, sa.func.count(Person.id))
        .where(Person.institution_id.in_(institution_ids))
        .group_by(Person.institution_id)
    )
    return {institution_id: count for institution_id, count in rows}

"""Searching the audit trail: one query per page, names joined from the current rows."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import to_utc

from app.auth.models import User
from app.courses.models import Course, CourseRun
from app.extensions import db
from app.people.models import Person
from app.programmes.models import Programme
from app.text import normalize_email, normalize_name

from .models import AuditEvent


@dataclass
class AuditFilters:
    action: str | None = None
    actor: str | None = None  # a name, an e-mail address or an account number
    person: str | None = None  # a name or a person number
    programme_id: int | None = None
    run_id: int | None = None
    date_from: date | None = None  # local dates, both included
    date_to: date | None = None

    def as_values(self) -> dict:
        """The filters as an audit event may keep them: what was typed about a person is
        kept only as whether it was given."""
        values = {
            "action": self.action,
            "programme_id": self.programme_id,
            "run_id": self.run_id,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "actor_filter": bool(self.actor) or None,
            "person_filter": bool(self.person) or None,
        }
        return {key: value for key, value in values.items() if value is not None}


def _number(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isdigit() and len(text) < 10 else None


def _people_named(text: str) -> sa.Select:
    words = normalize_name(text).split()
    if not words:
        return sa.select(Person.id).where(sa.false())
    return sa.select(Person.id).where(
        *(Person.name_key.contains(word, autoescape=True) for word in words)
    )


def _actors(text: str) -> sa.ColumnElement[bool]:
    number = _number(text)
    if number is not None:
        return AuditEvent.actor_id == number
    email = normalize_email(text) or ""
    by_email = (
        sa.select(User.id).join(User.person).where(Person.email == email) if "@" in email else None
    )
    by_name = sa.select(User.id).where(User.person_id.in_(_people_named(text)))
    query = by_name if by_email is None else sa.union(by_name, by_email)
    return AuditEvent.actor_id.in_(query)


def _people(text: str) -> sa.ColumnElement[bool]:
    number = _number(text)
    if number is not None:
        return AuditEvent.person_id == number
    return AuditEvent.person_id.in_(_people_named(text))


def _utc_midnight(day: date) -> datetime:
    return to_utc(datetime.combine(day, time.min))


def _where(query: sa.Select, filters: AuditFilters) -> sa.Select:
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(_actors(filters.actor))
    if filters.person:
        query = query.where(_people(filters.person))
    if filters.run_id is not None:
        query = query.where(AuditEvent.run_id == filters.run_id)
    if filters.programme_id is not None:
        # Events about a run name the run only; its programme is found through it.
        query = query.where(
            sa.or_(
                AuditEvent.programme_id == filters.programme_id,
                AuditEvent.run_id.in_(
                    sa.select(CourseRun.id).where(CourseRun.programme_id == filters.programme_id)
                ),
            )
        )
    if filters.date_from is not None:
        query = query.where(AuditEvent.at >= _utc_midnight(filters.date_from))
    if filters.date_to is not None:
        query = query.where(AuditEvent.at < _utc_midnight(filters.date_to + timedelta(days=1)))
    return query


ActorPerson = so.aliased(Person, name="actor_person")
ActorUser = so.aliased(User, name="actor_user")
SubjectPerson = so.aliased(Person, name="subject_person")


def events_query(filters: AuditFilters) -> sa.Select:
    """Events newest first, each with the current names of its actor and person, and the
    codes of its programme and course, in one query."""
    query = (
        sa.select(
            AuditEvent,
            ActorPerson.first_name.label("actor_first"),
            ActorPerson.last_name.label("actor_last"),
            SubjectPerson.first_name.label("person_first"),
            SubjectPerson.last_name.label("person_last"),
            Programme.code.label("programme_code"),
            Course.code.label("course_code"),
        )
        .outerjoin(ActorUser, ActorUser.id == AuditEvent.actor_id)
        .outerjoin(ActorPerson, ActorPerson.id == ActorUser.person_id)
        .outerjoin(SubjectPerson, SubjectPerson.id == AuditEvent.person_id)
        .outerjoin(CourseRun, CourseRun.id == AuditEvent.run_id)
        .outerjoin(Course, Course.id == CourseRun.course_id)
        .outerjoin(
            Programme,
            Programme.id == sa.func.coalesce(AuditEvent.programme_id, CourseRun.programme_id),
        )
        .order_by(AuditEvent.id.desc())
    )
    return _where(query, filters)


def page_of_events(filters: AuditFilters, *, before_id: int | None, size: int):
    """One page by keyset (events older than `before_id`): the cost stays the same however
    long the trail grows. Returns (rows, id to continue from or None)."""
    query = events_query(filters)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = db.session.execute(query.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].AuditEvent.id if more else None)


def programme_choices() -> list[tuple[int, str]]:
    return [
        (row.id, f"{row.code} – {row.name}")
        for row in db.session.execute(
            sa.select(Programme.id, Programme.code, Programme.name).order_by(Programme.code)
        )
    ]

"""Reads for the programme pages: aggregates in SQL, related rows loaded per relation."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User
from app.courses.models import CourseRun
from app.extensions import db
from app.people.models import Person

from .models import Programme, ProgrammeMember, ProgrammeParticipant

# Fewer characters would let a search list most accounts at once.
MIN_ACCOUNT_SEARCH = 3
ACCOUNT_SEARCH_LIMIT = 20


def programmes_with_counts(programme_ids: set[int] | None) -> list[sa.Row]:
    """Programmes (all when ids is None) with their course runs and participants, one query."""
    runs = (
        sa.select(CourseRun.programme_id, sa.func.count(CourseRun.id).label("n"))
        .group_by(CourseRun.programme_id)
        .subquery()
    )
    participants = (
        sa.select(
            ProgrammeParticipant.programme_id,
            sa.func.count(ProgrammeParticipant.id).label("n"),
        )
        .group_by(ProgrammeParticipant.programme_id)
        .subquery()
    )
    query = (
        sa.select(
            Programme.id,
            Programme.code,
            Programme.name,
            Programme.donor,
            Programme.starts_on,
            Programme.ends_on,
            sa.func.coalesce(runs.c.n, 0).label("runs"),
            sa.func.coalesce(participants.c.n, 0).label("participants"),
        )
        .outerjoin(runs, runs.c.programme_id == Programme.id)
        .outerjoin(participants, participants.c.programme_id == Programme.id)
        .order_by(Programme.starts_on.desc(), Programme.code)
    )
    if programme_ids is not None:
        # An empty IN () is not valid on every database; -1 matches nothing.
        query = query.where(Programme.id.in_(programme_ids or {-1}))
    return list(db.session.execute(query))


def participant_count(programme_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(ProgrammeParticipant.id)).where(
            ProgrammeParticipant.programme_id == programme_id
        )
    )


def programme_runs(programme_id: int) -> list[CourseRun]:
    return list(
        db.session.scalars(
            sa.select(CourseRun)
            .where(CourseRun.programme_id == programme_id)
            .options(so.joinedload(CourseRun.course), so.joinedload(CourseRun.municipality))
            .order_by(CourseRun.starts_on, CourseRun.id)
        )
    )


def programme_members(programme_id: int) -> list[ProgrammeMember]:
    return list(
        db.session.scalars(
            sa.select(ProgrammeMember)
            .join(ProgrammeMember.user)
            .join(User.person)
            .where(ProgrammeMember.programme_id == programme_id)
            .options(so.contains_eager(ProgrammeMember.user).contains_eager(User.person))
            .order_by(ProgrammeMember.role, Person.last_name, Person.first_name)
        )
    )


def load_member(programme_id: int, member_id: int) -> ProgrammeMember | None:
    return db.session.scalar(
        sa.select(ProgrammeMember).where(
            ProgrammeMember.id == member_id, ProgrammeMember.programme_id == programme_id
        )
    )


def accounts_by_email(text: str | None) -> list[User]:
    """Active accounts whose e-mail contains the text, for choosing a programme member."""
    text = (text or "").strip().lower()
    if len(text) < MIN_ACCOUNT_SEARCH:
        return []
    return list(
        db.session.scalars(
            sa.select(User)
            .join(User.person)
            .where(
                User.active.is_(True),
                sa.func.lower(Person.email).contains(text, autoescape=True),
            )
            .options(so.contains_eager(User.person))
            .order_by(Person.email)
            .limit(ACCOUNT_SEARCH_LIMIT)
        )
    )

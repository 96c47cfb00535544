"""Object-level permission checks: who may see or change which programme, run or person."""

import sqlalchemy as sa

from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db


def programme_ids_for(user: User, role: Role) -> set[int] | None:
    """Programmes where the user holds the role; None means all (administrators)."""
    from app.programmes.models import ProgrammeMember

    if user.is_admin:
        return None
    if not user.has_role(role):
        return set()
    return set(
        db.session.scalars(
            sa.select(ProgrammeMember.programme_id).where(
                ProgrammeMember.user_id == user.id, ProgrammeMember.role == role
            )
        )
    )


def managed_programme_ids(user: User) -> set[int] | None:
    return programme_ids_for(user, Role.MANAGER)


def can_manage_programme(user: User, programme_id: int) -> bool:
    ids = managed_programme_ids(user)
    return ids is None or programme_id in ids


def can_manage_run(user: User, run) -> bool:
    return can_manage_programme(user, run.programme_id)


def can_teach_run(user: User, run) -> bool:
    """Trainers assigned to the run, and the programme's managers."""
    if can_manage_run(user, run):
        return True
    return user.has_role(Role.TRAINER) and any(row.user_id == user.id for row in run.trainer_rows)


def can_view_person(user: User, person) -> bool:
    """Yourself; managers of a programme the person takes part in; administrators."""
    from app.programmes.models import ProgrammeParticipant

    if user.person_id == person.id or user.is_admin:
        return True
    ids = managed_programme_ids(user)
    if not ids:
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(ProgrammeParticipant.id)).where(
                ProgrammeParticipant.person_id == person.id,
                ProgrammeParticipant.programme_id.in_(ids),
            )
        )
    )


can_edit_person = can_view_person

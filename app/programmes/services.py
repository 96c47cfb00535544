"""Programmes: creation, reporting periods, members and participants."""

from datetime import date

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _

from app import audit
from app.auth.models import User, UserRole
from app.auth.roles import PROGRAMME_ROLES, Role
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Person

from .models import Programme, ProgrammeMember, ProgrammeParticipant, ReportingPeriod


def add_participant(*, programme_id: int, person: Person) -> None:
    """Record that a person takes part in a programme (idempotent)."""
    if person.id is None:
        db.session.flush()
    exists = db.session.scalar(
        sa.select(ProgrammeParticipant.id).where(
            ProgrammeParticipant.programme_id == programme_id,
            ProgrammeParticipant.person_id == person.id,
        )
    )
    if not exists:
        db.session.add(ProgrammeParticipant(programme_id=programme_id, person_id=person.id))


# Donors rarely accept less than half of the sessions as "trained".
MIN_THRESHOLD, MAX_THRESHOLD = 50, 100


def _check_periods_fit(programme: Programme, starts_on: date, ends_on: date) -> None:
    # Reports count people per period, so a period outside the programme would count nobody.
    for period in programme.periods:
        if period.starts_on < starts_on or period.ends_on > ends_on:
            raise DomainError(
                _(
                    "The reporting period %(name)s (%(start)s – %(end)s) would fall outside the "
                    "programme. Change or delete that period first.",
                    name=period.name,
                    start=format_date(period.starts_on),
                    end=format_date(period.ends_on),
                ),
                field="starts_on" if period.starts_on < starts_on else "ends_on",
            )


def _check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise DomainError(_("The end date must not be before the start date."), field="ends_on")


def save_programme(programme: Programme | None, **values) -> Programme:
    """Create or update a programme; codes are unique."""
    _check_dates(values["starts_on"], values["ends_on"])
    threshold = values.get("attendance_threshold", 80)
    if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        raise DomainError(
            _(
                "Use an attendance threshold between %(low)d and %(high)d percent.",
                low=MIN_THRESHOLD,
                high=MAX_THRESHOLD,
            ),
            field="attendance_threshold",
        )
    if programme is not None:
        _check_periods_fit(programme, values["starts_on"], values["ends_on"])
    code = values["code"].strip().upper()
    clash = db.session.scalar(sa.select(Programme).where(Programme.code == code))
    if clash is not None and clash is not programme:
        raise Conflict(
            _("Another programme already uses the code %(code)s. Choose another code.", code=code),
            field="code",
        )
    if programme is None:
        programme = Programme()
        db.session.add(programme)
    for key, value in values.items():
        setattr(programme, key, value)
    programme.code = code
    db.session.flush()
    return programme


def add_period(
    *, programme: Programme, name: str, starts_on: date, ends_on: date
) -> ReportingPeriod:
    """Add a reporting period inside the programme's dates, not overlapping another one."""
    name = name.strip()
    _check_dates(starts_on, ends_on)
    if starts_on < programme.starts_on or ends_on > programme.ends_on:
        raise DomainError(
            _(
                "A reporting period must lie within the programme's dates (%(start)s – %(end)s).",
                start=format_date(programme.starts_on),
                end=format_date(programme.ends_on),
            ),
            field="starts_on" if starts_on < programme.starts_on else "ends_on",
        )
    for period in programme.periods:
        if period.name == name:
            raise Conflict(_("There is already a period called %(name)s.", name=name), field="name")
        if starts_on <= period.ends_on and period.starts_on <= ends_on:
            raise Conflict(_("This period overlaps %(name)s.", name=period.name), field="starts_on")
    period = ReportingPeriod(programme=programme, name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(period)
    db.session.flush()
    return period


def add_member(*, programme: Programme, user: User, role: Role) -> ProgrammeMember:
    """Make a user a manager or trainer of the programme; they gain the role if they lacked it."""
    if role not in PROGRAMME_ROLES:
        raise DomainError(_("Only managers and trainers are members of a programme."), field="role")
    if not user.active:
        raise DomainError(
            _(
                "The account of %(name)s is deactivated; an administrator must activate it first.",
                name=user.name,
            ),
            field="user_id",
        )
    exists = db.session.scalar(
        sa.select(ProgrammeMember).where(
            ProgrammeMember.programme_id == programme.id,
            ProgrammeMember.user_id == user.id,
            ProgrammeMember.role == role,
        )
    )
    if exists:
        raise Conflict(
            _("%(name)s is already a member with this role.", name=user.name), field="user_id"
        )
    gains_role = role not in user.roles
    if gains_role:
        user.role_rows.append(UserRole(role=role))
    member = ProgrammeMember(programme=programme, user=user, role=role)
    db.session.add(member)
    db.session.flush()
    if gains_role:
        audit.record_role("role.grant", user=user, role=role, by=audit.CURRENT)
    audit.record_role(
        "role.grant", user=user, role=role, by=audit.CURRENT, programme_id=programme.id
    )
    return member


def remove_member(*, member: ProgrammeMember) -> None:
    audit.record_role(
        "role.revoke",
        user=member.user,
        role=member.role,
        by=audit.CURRENT,
        programme_id=member.programme_id,
    )
    db.session.delete(member)
    db.session.flush()


def delete_period(*, period: ReportingPeriod) -> None:
    """Delete a reporting period (reports are computed from dates, so nothing else is lost)."""
    period.programme.periods.remove(period)
    db.session.delete(period)
    db.session.flush()

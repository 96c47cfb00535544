"""Changes only administrators make: accounts and roles, institutions, place names."""

from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from app import audit
from app.auth import passwords, sessions
from app.auth.models import User, UserRole, UserSession
from app.auth.roles import PROGRAMME_ROLES, Role
from app.errors import Conflict, DomainError
from app.extensions import db
from app.people.models import Institution, InstitutionType, Person
from app.places.models import Municipality
from app.places.services import update_variants
from app.programmes.models import ProgrammeMember
from app.text import normalize_email, normalize_name
from app.timeutil import utcnow


@dataclass
class AccountChange:
    sessions_ended: int = 0
    memberships_ended: int = 0


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(User.id)))
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )


def _check_account_change(*, user: User, roles: set[Role], active: bool, by: User) -> None:
    if not roles:
        raise DomainError(_("Give the account at least one role."), field="roles")
    losing_admin = user.is_admin and Role.ADMIN not in roles
    if user.id == by.id and losing_admin:
        raise DomainError(
            _("You cannot remove your own administrator role. Ask another administrator."),
            field="roles",
        )
    if user.id == by.id and not active:
        raise DomainError(
            _("You cannot deactivate your own account. Ask another administrator."),
            field="active",
        )
    # Without an active administrator nobody could manage accounts any more.
    stops_admin = user.is_admin and user.active and (losing_admin or not active)
    if stops_admin and not _other_active_admins(user):
        raise DomainError(
            _(
                "%(name)s is the last active administrator. "
                "Make another account an administrator first.",
                name=user.name,
            ),
            field="roles" if losing_admin else "active",
        )


def _apply_roles(user: User, roles: set[Role], *, by) -> int:
    removed = user.roles - roles
    added = roles - user.roles
    for row in [row for row in user.role_rows if row.role in removed]:
        user.role_rows.remove(row)
    for role in sorted(added):
        user.role_rows.append(UserRole(role=role))
    for role in sorted(added):
        audit.record_role("role.grant", user=user, role=role, by=by)
    for role in sorted(removed):
        audit.record_role("role.revoke", user=user, role=role, by=by)
    # Programme scopes without the role would come back unnoticed if the role were given again.
    ended_roles = removed & set(PROGRAMME_ROLES)
    if not ended_roles:
        return 0
    ended = db.session.execute(
        sa.delete(ProgrammeMember)
        .where(ProgrammeMember.user_id == user.id, ProgrammeMember.role.in_(ended_roles))
        .returning(ProgrammeMember.programme_id, ProgrammeMember.role)
    ).all()
    for programme_id, role in ended:
        audit.record_role("role.revoke", user=user, role=role, by=by, programme_id=programme_id)
    return len(ended)


def _apply_active(user: User, active: bool) -> int:
    ended = 0
    if user.active and not active:
        ended = sessions.end_other_sessions(user, keep_token=None)
    user.active = active
    return ended


def set_roles(*, user: User, roles: set[Role], by: User) -> int:
    """Give the account exactly these roles; returns how many programme memberships ended."""
    _check_account_change(user=user, roles=roles, active=user.active, by=by)
    ended = _apply_roles(user, roles, by=by)
    db.session.flush()
    return ended


def set_active(*, user: User, active: bool, by: User) -> int:
    """Activate or deactivate the account; deactivating signs it out everywhere at once."""
    _check_account_change(user=user, roles=user.roles, active=active, by=by)
    ended = _apply_active(user, active)
    db.session.flush()
    return ended


def update_account(*, user: User, roles: set[Role], active: bool, by: User) -> AccountChange:
    """Set roles and active state together; both are checked before either changes."""
    _check_account_change(user=user, roles=roles, active=active, by=by)
    change = AccountChange(memberships_ended=_apply_roles(user, roles, by=by))
    change.sessions_ended = _apply_active(user, active)
    db.session.flush()
    return change


def end_sessions(*, user: User) -> int:
    """Sign the account out of every browser; returns how many sessions ended."""
    return sessions.end_other_sessions(user, keep_token=None)


def end_session(*, user: User, session_id: int) -> None:
    """Sign the account out of one browser; it is anonymous from its next request."""
    ended = db.session.execute(
        sa.delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    ).rowcount
    if not ended:
        raise DomainError(_("That browser was already signed out."))


def invite_user(*, first_name: str, last_name: str, email: str, roles: set[Role]) -> User:
    """Create an account without a password (the person sets it from an e-mailed link).

    A person already known by that e-mail (a participant imported earlier) is reused.
    """
    email = normalize_email(email)
    if not email:
        raise DomainError(_("Enter the person's e-mail address."), field="email")
    if not roles:
        raise DomainError(_("Give the account at least one role."), field="roles")
    person = db.session.scalar(sa.select(Person).where(Person.email == email))
    if person is None:
        person = Person(first_name=first_name.strip(), last_name=last_name.strip(), email=email)
        db.session.add(person)
    elif db.session.scalar(sa.select(User.id).where(User.person_id == person.id)):
        raise Conflict(
            _(
                "%(email)s already has an account. Open it from the list of accounts "
                "to change its roles.",
                email=email,
            ),
            field="email",
        )
    # The administrator vouches for the address; the link proves it when it is used.
    user = User(person=person, password_hash=None, email_confirmed_at=utcnow())
    for role in sorted(roles):
        user.role_rows.append(UserRole(role=role))
    db.session.add(user)
    db.session.flush()
    for role in sorted(roles):
        audit.record_role("role.grant", user=user, role=role, by=audit.CURRENT)
    return user


def create_admin(*, email: str, first_name: str, last_name: str, password: str) -> User:
    """Create a confirmed administrator, or promote the existing account and set its password."""
    try:
        email = normalize_email(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise DomainError(
            _("%(email)s is not a valid e-mail address.", email=email), field="email"
        ) from exc
    passwords.check_policy(password, [first_name, last_name, email])
    person = db.session.scalar(sa.select(Person).where(Person.email == email))
    if person is None:
        person = Person(first_name=first_name.strip(), last_name=last_name.strip(), email=email)
        db.session.add(person)
    user = None
    if person.id is not None:
        user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
    if user is None:
        user = User(person=person)
        db.session.add(user)
    elif user.password_hash:
        # The old password may be known to someone else; its sessions go with it.
        sessions.end_other_sessions(user, keep_token=None)
    user.password_hash = passwords.hash_password(password)
    user.active = True
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    granted = Role.ADMIN not in user.roles
    if granted:
        user.role_rows.append(UserRole(role=Role.ADMIN))
    db.session.flush()
    if granted:
        audit.record_role(
            "role.grant", user=user, role=Role.ADMIN, by=None
        )  # from the command line
    return user


def save_institution(
    institution: Institution | None,
    *,
    name: str,
    institution_type: InstitutionType,
    municipality_id: int | None,
) -> Institution:
    """Create or update an institution; a name is unique within its municipality."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Enter the institution's name."), field="name")
    municipality = None
    if municipality_id is not None:
        municipality = db.session.get(Municipality, municipality_id)
        if municipality is None:
            raise DomainError(_("Choose a municipality from the list."), field="municipality")
    same_place = (
        Institution.municipality_id.is_(None)
        if municipality_id is None
        else Institution.municipality_id == municipality_id
    )
    query = sa.select(Institution.id).where(
        Institution.name_key == normalize_name(name), same_place
    )
    if institution is not None and institution.id is not None:
        query = query.where(Institution.id != institution.id)
    if db.session.scalar(query.limit(1)) is not None:
        if municipality is None:
            message = _(
                "There is already an institution called “%(name)s” without a municipality. "
                "Use that one, or choose its municipality.",
                name=name,
            )
        else:
            message = _(
                "There is already an institution called “%(name)s” in %(place)s. "
                "Use that one, or give this one a different name.",
                name=name,
                place=municipality.display_name,
            )
        raise Conflict(message, field="name")
    if institution is None:
        institution = Institution()
        db.session.add(institution)
    institution.name = name
    institution.type = institution_type
    institution.municipality_id = municipality_id
    db.session.flush()
    return institution


def update_municipality(*, municipality: Municipality, name_en: str, variants: list[str]) -> None:
    """Rename in English and replace the variants; no spelling may name two municipalities."""
    name_en = " ".join((name_en or "").split())
    if not name_en:
        raise DomainError(_("Enter the English name."), field="name_en")
    key = normalize_name(name_en)
    others = db.session.scalars(sa.select(Municipality).where(Municipality.id != municipality.id))
    for other in others:
        if key in other.name_keys():
            raise Conflict(
                _("“%(name)s” already names %(other)s.", name=name_en, other=other.display_name),
                field="name_en",
            )
    update_variants(municipality, variants)
    municipality.name_en = name_en
    db.session.flush()

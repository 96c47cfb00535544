"""Changes to people: profile and manager edits, institutions. Flushes, never commits."""

from dataclasses import dataclass, fields
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.auth.models import User
from app.errors import Conflict, DomainError
from app.extensions import db
from app.i18n import LOCALES
from app.places.models import Municipality
from app.text import normalize_email, normalize_name

from .models import AgeBand, Institution, InstitutionType, Person, Sex, TargetGroup

EARLIEST_BIRTH_YEAR = 1920
# Participants are at least 14: the youngest secondary-school pupils in the programmes.
MINIMUM_AGE = 14

# The institution a target group usually works for, when a file does not say.
DEFAULT_INSTITUTION_TYPE = {
    TargetGroup.MUNICIPAL_OFFICIAL: InstitutionType.MUNICIPALITY,
    TargetGroup.STUDENT: InstitutionType.UNIVERSITY,
    TargetGroup.CSO: InstitutionType.CSO,
    TargetGroup.MEDIA: InstitutionType.MEDIA,
    TargetGroup.OTHER: InstitutionType.OTHER,
}


@dataclass
class PersonFields:
    """The fields a person (or their manager) edits on a form."""

    first_name: str
    last_name: str
    phone: str | None = None
    sex: Sex = Sex.UNDISCLOSED
    birth_year: int | None = None
    age_band: AgeBand | None = None
    municipality_id: int | None = None
    institution_id: int | None = None
    position: str | None = None
    department: str | None = None
    target_group: TargetGroup = TargetGroup.OTHER
    consent_photos: bool = False
    consent_public_name: bool = False


def birth_year_bounds(today: date) -> tuple[int, int]:
    """The earliest and latest birth year Akademia accepts on this day."""
    return EARLIEST_BIRTH_YEAR, today.year - MINIMUM_AGE


def birth_year_problem(year: int | None, today: date) -> str | None:
    """The message for an impossible birth year, or None when it is fine or absent."""
    if year is None:
        return None
    low, high = birth_year_bounds(today)
    if low <= year <= high:
        return None
    return _("Enter a birth year between %(low)d and %(high)d.", low=low, high=high)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_fields(values: PersonFields, today: date) -> None:
    if not _clean(values.first_name):
        raise DomainError(_("Enter the first name."), field="first_name")
    if not _clean(values.last_name):
        raise DomainError(_("Enter the last name."), field="last_name")
    problem = birth_year_problem(values.birth_year, today)
    if problem:
        raise DomainError(problem, field="birth_year")
    if values.municipality_id and db.session.get(Municipality, values.municipality_id) is None:
        raise DomainError(_("Choose a municipality from the list."), field="municipality_id")
    if values.institution_id and db.session.get(Institution, values.institution_id) is None:
        raise DomainError(_("Choose an institution from the list."), field="institution_id")


def _apply_fields(person: Person, values: PersonFields) -> None:
    for item in fields(PersonFields):
        value = getattr(values, item.name)
        setattr(person, item.name, _clean(value) if isinstance(value, str) else value)
    # A known year makes the band redundant; the band is kept only when the year is not given.
    if person.birth_year is not None:
        person.age_band = None


def update_profile(*, user: User, values: PersonFields, locale: str | None, today: date) -> Person:
    """Save the signed-in user's own details and interface language."""
    _check_fields(values, today)
    if locale is not None and locale not in LOCALES:
        raise DomainError(_("Choose a language from the list."), field="locale")
    person = user.person
    _apply_fields(person, values)
    user.locale = locale
    db.session.flush()
    return person


def email_owner(email: str) -> Person | None:
    """The person who has this (normalised) e-mail address, if anyone."""
    return db.session.scalar(sa.select(Person).where(Person.email == email))


def update_person(
    *,
    person: Person,
    values: PersonFields,
    email: str | None,
    today: date,
    may_change_login: bool = False,
) -> Person:
    """A manager's edit: also the e-mail (unique); saving marks the person as reviewed.

    The e-mail of someone with an account is their sign-in: only administrators
    (may_change_login) change it, or a manager could redirect password resets to themselves.
    """
    _check_fields(values, today)
    email = normalize_email(email)
    if email != person.email:
        has_account = db.session.scalar(sa.select(User.id).where(User.person_id == person.id))
        if has_account and not may_change_login:
            raise DomainError(
                _(
                    "This person signs in with this e-mail address; only an administrator can change it."
                ),
                field="email",
            )
        if email is None and has_account:
            raise DomainError(
                _("This person signs in with their e-mail address, so it cannot be left empty."),
                field="email",
            )
        owner = email_owner(email) if email else None
        if owner is not None and owner.id != person.id:
            raise Conflict(
                _("%(email)s already belongs to %(name)s.", email=email, name=owner.full_name),
                field="email",
            )
    _apply_fields(person, values)
    person.email = email
    person.needs_review = False
    db.session.flush()
    return person


def find_institution(
    *, name: str, municipality_id: int | None, candidates: list[Institution]
) -> Institution | None:
    """Same name in the same municipality, else the only institution of that name anywhere."""
    key = normalize_name(name)
    same_name = [i for i in candidates if i.name_key == key]
    for institution in same_name:
        if institution.municipality_id == municipality_id:
            return institution
    return same_name[0] if len(same_name) == 1 else None


def create_institution(
    *, name: str, municipality_id: int | None, type_: InstitutionType
) -> Institution:
    """A new institution; callers look for an existing one first (find_institution)."""
    institution = Institution(name=name.strip(), municipality_id=municipality_id, type=type_)
    db.session.add(institution)
    db.session.flush()
    return institution

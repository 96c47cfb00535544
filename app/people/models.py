import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.extensions import db, str_enum
from app.places.models import Municipality
from app.text import normalize_name
from app.timeutil import utcnow


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNDISCLOSED = "undisclosed"


class TargetGroup(enum.StrEnum):
    MUNICIPAL_OFFICIAL = "municipal_official"
    STUDENT = "student"
    CSO = "cso"
    MEDIA = "media"
    OTHER = "other"


class InstitutionType(enum.StrEnum):
    MUNICIPALITY = "municipality"
    MINISTRY = "ministry"
    AGENCY = "agency"
    UNIVERSITY = "university"
    CSO = "cso"
    MEDIA = "media"
    PRIVATE = "private"
    OTHER = "other"


class AgeBand(enum.StrEnum):
    """The donors' age bands; 15–24 is youth in Kosovo law."""

    B15_24 = "15-24"
    B25_29 = "25-29"
    B30_44 = "30-44"
    B45_64 = "45-64"
    B65_PLUS = "65+"


AGE_BAND_BOUNDS = {
    AgeBand.B15_24: (15, 24),
    AgeBand.B25_29: (25, 29),
    AgeBand.B30_44: (30, 44),
    AgeBand.B45_64: (45, 64),
    AgeBand.B65_PLUS: (65, 200),
}

SEX_LABELS = {Sex.FEMALE: _l("Female"), Sex.MALE: _l("Male"), Sex.UNDISCLOSED: _l("Not disclosed")}
TARGET_GROUP_LABELS = {
    TargetGroup.MUNICIPAL_OFFICIAL: _l("Municipal official"),
    TargetGroup.STUDENT: _l("Student"),
    TargetGroup.CSO: _l("Civil-society organisation"),
    TargetGroup.MEDIA: _l("Media"),
    TargetGroup.OTHER: _l("Other"),
}
INSTITUTION_TYPE_LABELS = {
    InstitutionType.MUNICIPALITY: _l("Municipality"),
    InstitutionType.MINISTRY: _l("Ministry"),
    InstitutionType.AGENCY: _l("Public agency"),
    InstitutionType.UNIVERSITY: _l("University"),
    InstitutionType.CSO: _l("Civil-society organisation"),
    InstitutionType.MEDIA: _l("Media"),
    InstitutionType.PRIVATE: _l("Private company"),
    InstitutionType.OTHER: _l("Other"),
}


def age_band_for(birth_year: int | None, on: date) -> AgeBand | None:
    if birth_year is None:
        return None
    age = on.year - birth_year
    for band, (low, high) in AGE_BAND_BOUNDS.items():
        if low <= age <= high:
            return band
    return None


class Institution(db.Model):
    __table_args__ = (sa.UniqueConstraint("name_key", "municipality_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_key: so.Mapped[str] = so.mapped_column(sa.String(200), index=True)
    type: so.Mapped[InstitutionType] = so.mapped_column(str_enum(InstitutionType, 20))
    municipality_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("municipality.id"))

    municipality: so.Mapped[Municipality | None] = so.relationship()

    @so.validates("name")
    def _keep_key(self, _key, value):
        self.name_key = normalize_name(value)
        return value


class Person(db.Model):
    """A participant: the fields donors disaggregate by, whether or not they have an account."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    first_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    last_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    name_key: so.Mapped[str] = so.mapped_column(sa.String(210), index=True)
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254), unique=True)
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    sex: so.Mapped[Sex] = so.mapped_column(str_enum(Sex, 20), default=Sex.UNDISCLOSED)
    birth_year: so.Mapped[int | None] = so.mapped_column()
    # Kept when only the band is known (some participants give a band, not a year).
    age_band: so.Mapped[AgeBand | None] = so.mapped_column(str_enum(AgeBand, 10))
    municipality_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("municipality.id"), index=True
    )
    institution_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    position: so.Mapped[str | None] = so.mapped_column(sa.String(150))
    department: so.Mapped[str | None] = so.mapped_column(sa.String(150))
    target_group: so.Mapped[TargetGroup] = so.mapped_column(
        str_enum(TargetGroup, 30), default=TargetGroup.OTHER
    )
    consent_photos: so.Mapped[bool] = so.mapped_column(default=False)
    consent_public_name: so.Mapped[bool] = so.mapped_column(default=False)
    # Set for people created with minimum fields (walk-ins) so a manager completes them.
    needs_review: so.Mapped[bool] = so.mapped_column(default=False)
    # Set when the person's data was erased (app/privacy): the row stays, anonymised, so
    # the enrolments and marks that donor reports count keep their person.
    erased_at: so.Mapped[datetime | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    municipality: so.Mapped[Municipality | None] = so.relationship()
    institution: so.Mapped[Institution | None] = so.relationship()

    @so.validates("first_name", "last_name")
    def _keep_key(self, key, value):
        first = value if key == "first_name" else self.first_name
        last = value if key == "last_name" else self.last_name
        self.name_key = normalize_name(f"{first or ''} {last or ''}")
        return value

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def effective_age_band(self, on: date) -> AgeBand | None:
        return age_band_for(self.birth_year, on) or self.age_band

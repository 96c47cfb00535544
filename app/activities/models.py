"""Programme activities that are not courses: TalkDigital meetings, workshops, events."""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.extensions import db, str_enum
from app.people.models import Person
from app.places.models import Municipality
from app.programmes.models import Programme
from app.timeutil import utcnow


class ActivityType(enum.StrEnum):
    TALKDIGITAL = "talkdigital"
    RESEARCH_WORKSHOP = "research_workshop"
    CLOSING_EVENT = "closing_event"
    INITIAL_EVENT = "initial_event"
    REGIONAL_FORUM = "regional_forum"
    OTHER = "other"


ACTIVITY_TYPE_LABELS = {
    ActivityType.TALKDIGITAL: _l("TalkDigital meeting"),
    ActivityType.RESEARCH_WORKSHOP: _l("Research workshop"),
    ActivityType.CLOSING_EVENT: _l("Closing event"),
    ActivityType.INITIAL_EVENT: _l("Opening event"),
    ActivityType.REGIONAL_FORUM: _l("Regional forum"),
    ActivityType.OTHER: _l("Other activity"),
}


class Activity(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    type: so.Mapped[ActivityType] = so.mapped_column(str_enum(ActivityType, 30))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)
    starts_at: so.Mapped[datetime] = so.mapped_column(index=True)
    ends_at: so.Mapped[datetime] = so.mapped_column()
    venue: so.Mapped[str] = so.mapped_column(sa.String(200))
    municipality_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("municipality.id"))
    cancelled: so.Mapped[bool] = so.mapped_column(default=False)
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    programme: so.Mapped[Programme] = so.relationship()
    municipality: so.Mapped[Municipality | None] = so.relationship()
    participants: so.Mapped[list["ActivityParticipant"]] = so.relationship(
        back_populates="activity", cascade="all, delete-orphan"
    )

    @property
    def type_label(self) -> str:
        return str(ACTIVITY_TYPE_LABELS[self.type])


class ActivityParticipant(db.Model):
    """Registered in advance or added at the door; attended is what donor reports count."""

    __table_args__ = (sa.UniqueConstraint("activity_id", "person_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    activity_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    registered_in_advance: so.Mapped[bool] = so.mapped_column(default=True)
    attended: so.Mapped[bool] = so.mapped_column(default=False)
    added_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    added_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    activity: so.Mapped[Activity] = so.relationship(back_populates="participants")
    person: so.Mapped[Person] = so.relationship()
    added_by: so.Mapped[User | None] = so.relationship()

"""Forms for activities and their participants; times are Europe/Belgrade wall time."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Email, InputRequired, Length, Optional

from app.database import row_id
from app.people.models import (
    INSTITUTION_TYPE_LABELS,
    SEX_LABELS,
    TARGET_GROUP_LABELS,
    InstitutionType,
    Sex,
    TargetGroup,
)
from app.places.queries import municipality_id_from_choice

from .models import ACTIVITY_TYPE_LABELS
from .services import ActivityFields, DoorPerson


def _optional_str(value) -> str:
    return "" if value is None else str(value)


class ActivityForm(FlaskForm):
    type = SelectField(
        _l("Type"), choices=[(t.value, label) for t, label in ACTIVITY_TYPE_LABELS.items()]
    )
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    day = DateField(_l("Date"), validators=[InputRequired()])
    starts = TimeField(_l("Starts at"), validators=[InputRequired()])
    ends = TimeField(_l("Ends at"), validators=[InputRequired()])
    venue = StringField(_l("Venue"), validators=[InputRequired(), Length(max=200)])
    municipality_id = SelectField(
        _l("Municipality"),
        coerce=municipality_id_from_choice,
        choices=[],
        validators=[Optional()],
        description=_l("Leave empty for an online or regional activity."),
    )

    def fields(self, starts_at, ends_at) -> ActivityFields:
        return ActivityFields(
            type=self.type.data,
            title=self.title.data,
            description=self.description.data,
            starts_at=starts_at,
            ends_at=ends_at,
            venue=self.venue.data,
            municipality_id=self.municipality_id.data,
        )


class PeopleSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(_l("Name or e-mail"), validators=[Optional(), Length(max=100)])


class RegisterForm(FlaskForm):
    # Checkboxes drawn from the search results; the service checks who may be registered.
    person_ids = SelectMultipleField(coerce=row_id, validate_choice=False)


class AttendanceForm(FlaskForm):
    attended = SelectMultipleField(coerce=row_id, validate_choice=False)


class DoorForm(FlaskForm):
    """Someone who came without registering: the minimum, completed later by a manager."""

    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=100)])
    sex = SelectField(
        _l("Sex"),
        choices=[(s.value, label) for s, label in SEX_LABELS.items()],
        default=Sex.UNDISCLOSED.value,
    )
    target_group = SelectField(
        _l("Target group"),
        choices=[(t.value, label) for t, label in TARGET_GROUP_LABELS.items()],
        default=TargetGroup.OTHER.value,
    )
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    institution_type = SelectField(
        _l("Type of organisation"),
        coerce=_optional_str,
        choices=[("", _l("Not given"))]
        + [(t.value, label) for t, label in INSTITUTION_TYPE_LABELS.items()],
        validators=[Optional()],
    )
    email = EmailField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )

    def door_person(self) -> DoorPerson:
        return DoorPerson(
            first_name=self.first_name.data,
            last_name=self.last_name.data,
            sex=Sex(self.sex.data),
            target_group=TargetGroup(self.target_group.data),
            organisation=self.organisation.data,
            institution_type=(
                InstitutionType(self.institution_type.data) if self.institution_type.data else None
            ),
            email=self.email.data,
        )

"""Forms of the roll-call (the no-JavaScript path), walk-ins and QR check-in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SearchField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from app.database import MAX_ID
from app.people.models import SEX_LABELS
from app.places.queries import municipality_id_from_choice

from .models import ATTENDANCE_LABELS

CLIENT_ID = r"^[A-Za-z0-9_-]{8,64}$"


class MarkForm(FlaskForm):
    """One row of the roll-call: the pressed button names the status."""

    person_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    status = SelectField(
        _l("Attendance"),
        choices=[(status.value, label) for status, label in ATTENDANCE_LABELS.items()],
        validators=[InputRequired()],
    )
    remark = StringField(_l("Remark"), validators=[Optional(), Length(max=300)])
    # Generated when the page was drawn: submitting the same form twice records one mark.
    client_id = HiddenField(validators=[Optional(), Regexp(CLIENT_ID)])


class WalkInSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(
        _l("Find a person"),
        validators=[Optional(), Length(max=100)],
        description=_l("At least two letters of the first or last name."),
    )


class AddWalkInForm(FlaskForm):
    person_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class NewWalkInForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=100)])
    sex = SelectField(
        _l("Sex"),
        choices=[("", _l("Choose…"))] + [(s.value, label) for s, label in SEX_LABELS.items()],
        validators=[InputRequired(message=_l("Choose one."))],
    )
    municipality_id = SelectField(
        _l("Municipality"),
        coerce=municipality_id_from_choice,
        choices=[],
        validators=[Optional()],
    )


class CheckInForm(FlaskForm):
    # Signed when the code was scanned, so reading the page before confirming is no race
    # against the rotating code.
    ticket = HiddenField(validators=[InputRequired()])

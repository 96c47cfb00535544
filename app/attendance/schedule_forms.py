"""Forms for scheduling, moving and cancelling sessions; times are Europe/Belgrade wall time."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.attendance.services import MAX_SERIES

# Repeat choice → days between sessions; "custom" takes the number typed in every_days.
REPEAT_DAYS = {"once": None, "daily": 1, "weekly": 7}


class SessionPlaceForm(FlaskForm):
    """When and where a session takes place, and who teaches it."""

    day = DateField(_l("Date"), validators=[InputRequired()])
    starts = TimeField(_l("Starts at"), validators=[InputRequired()])
    ends = TimeField(_l("Ends at"), validators=[InputRequired()])
    venue = StringField(_l("Venue"), validators=[InputRequired(), Length(max=200)])
    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[InputRequired()])
    # 0 stands for "no trainer yet": a select cannot hold None.
    trainer_id = SelectField(_l("Trainer"), coerce=int, validators=[Optional()])


class NewSessionForm(SessionPlaceForm):
    repeat = SelectField(
        _l("Repeat"),
        choices=[
            ("once", _l("Does not repeat")),
            ("daily", _l("Every day")),
            ("weekly", _l("Every week")),
            ("custom", _l("Every few days")),
        ],
        default="once",
    )
    every_days = IntegerField(
        _l("Days between sessions"),
        validators=[Optional(), NumberRange(min=1, max=31)],
        description=_l('Only for "Every few days", e.g. 14 for every second week.'),
    )
    count = IntegerField(
        _l("Number of sessions"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_SERIES)],
        description=_l("Including the first one."),
    )

    @property
    def step_days(self) -> int | None:
        """Days between sessions, None for a single session."""
        if self.repeat.data == "custom":
            return self.every_days.data
        return REPEAT_DAYS.get(self.repeat.data)


class MoveSessionForm(SessionPlaceForm):
    message = TextAreaField(
        _l("Message to the learners"),
        validators=[Optional(), Length(max=250)],
        description=_l("Optional; added to the notice every enrolled learner receives."),
    )


class CancelSessionForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(), Length(max=250)],
        description=_l("Sent to every enrolled learner with the notice."),
    )

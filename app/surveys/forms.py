from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .models import APPLIED_LABELS, SURVEY_KIND_LABELS

SCALE = [(5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")]


class ScheduleForm(FlaskForm):
    kind = SelectField(
        _l("Survey"), choices=[(k.value, label) for k, label in SURVEY_KIND_LABELS.items()]
    )
    send_on = DateField(
        _l("Send on"),
        validators=[InputRequired()],
        description=_l(
            "Learners get the link by e-mail on this day (today or earlier: right away)."
        ),
    )
    closes_on = DateField(_l("Closes on"), validators=[Optional()])
    submit = SubmitField(_l("Plan the survey"))


class _Signed(FlaskForm):
    comment = TextAreaField(
        _l("Anything else you want to tell us?"), validators=[Optional(), Length(max=4000)]
    )
    signed = BooleanField(
        _l("Show my name with my comments"),
        description=_l(
            "Leave this unticked and your answers stay anonymous: trainers see them without your name."
        ),
    )
    submit = SubmitField(_l("Send my answers"))


class ReactionForm(_Signed):
    overall = RadioField(
        _l("Overall, how satisfied are you with the course?"),
        coerce=int,
        choices=SCALE,
        validators=[InputRequired()],
    )
    relevance = RadioField(
        _l("How relevant was it to your work or studies?"),
        coerce=int,
        choices=SCALE,
        validators=[InputRequired()],
    )
    trainer = RadioField(
        _l("How would you rate the trainer?"),
        coerce=int,
        choices=SCALE,
        validators=[InputRequired()],
    )


class FollowUpForm(_Signed):
    applied = RadioField(
        _l("Have you used what you learned in the course?"),
        choices=[(a.value, label) for a, label in APPLIED_LABELS.items()],
        validators=[InputRequired()],
    )
    how_applied = TextAreaField(
        _l("How? Give an example, or tell us what stopped you."),
        validators=[Optional(), Length(max=4000)],
    )

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.i18n import LOCALE_NAMES


class CatalogueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)])
    topic = SelectField(_l("Topic"), choices=[], validators=[Optional()])
    competence = SelectField(_l("DigComp competence"), choices=[], validators=[Optional()])
    municipality = SelectField(_l("Municipality"), choices=[], coerce=str, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    language = SelectField(
        _l("Language"),
        choices=[("", _l("Any"))] + list(LOCALE_NAMES.items()),
        validators=[Optional()],
    )
    programme = SelectField(_l("Programme"), choices=[], validators=[Optional()])
    seats = BooleanField(_l("Only with seats left"))


class RunForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=int, validators=[InputRequired()])
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    venue = StringField(_l("Venue"), validators=[InputRequired(), Length(max=200)])
    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[InputRequired()])
    language = SelectField(_l("Language of delivery"), choices=list(LOCALE_NAMES.items()))
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(), NumberRange(min=1, max=5000)])
    enrol_opens_at = DateTimeLocalField(
        _l("Enrolment opens"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    enrol_closes_at = DateTimeLocalField(
        _l("Enrolment closes"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    requires_approval = BooleanField(_l("Enrolment requests need a manager's approval"))
    published = BooleanField(_l("Show in the catalogue"), default=True)
    trainer_ids = SelectMultipleField(_l("Trainers"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Save"))

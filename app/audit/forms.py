from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SearchField, SelectField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from .actions import ACTION_LABELS


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    action = SelectField(
        _l("Action"),
        choices=[("", _l("Any"))] + list(ACTION_LABELS.items()),
        validators=[Optional()],
    )
    actor = SearchField(
        _l("Done by"),
        description=_l("A name, an e-mail address or an account number."),
        validators=[Optional(), Length(max=100)],
    )
    person = SearchField(
        _l("About the person"),
        description=_l("A name or a person number."),
        validators=[Optional(), Length(max=100)],
    )
    programme = SelectField(_l("Programme"), choices=[], validators=[Optional()])
    run = IntegerField(
        _l("Course run number"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))

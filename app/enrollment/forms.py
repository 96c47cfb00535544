from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BulkEnrolForm(FlaskForm):
    person_ids = MultiCheckboxField(
        _l("Participants of the programme"), coerce=int, validators=[Optional()]
    )
    emails = TextAreaField(
        _l("Or paste e-mail addresses"),
        description=_l("One per line, or separated by commas. People must already be in Akademia."),
        validators=[Optional(), Length(max=100_000)],
    )
    submit = SubmitField(_l("Enrol"))

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length


class ErasureForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        description=_l(
            "For example: the date and channel of the person's request. Kept in the record "
            "of erasures; the person's name is removed from it."
        ),
        validators=[InputRequired(), Length(max=2000)],
    )
    confirm = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[DataRequired(_l("Tick the box to confirm the erasure."))],
    )
    submit = SubmitField(_l("Erase this person's data"))

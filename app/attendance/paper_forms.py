from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField
from wtforms.validators import InputRequired

from app.uploads import TableFile


class MarksUploadForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(_l("Choose a file to upload.")), TableFile()],
        description=_l(
            "Up to 5 MB and 5,000 rows. Column names may be in English, Albanian or Serbian."
        ),
    )
    submit = SubmitField(_l("Check the file"))


class MarksConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])

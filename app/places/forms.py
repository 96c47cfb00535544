import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional


class MunicipalityForm(FlaskForm):
    name_en = StringField(_l("Name in English"), validators=[InputRequired(), Length(max=80)])
    variants = TextAreaField(
        _l("Other spellings"),
        description=_l(
            "One per line, e.g. Gllogoc for Drenas. Imports of participant lists accept these "
            "spellings, with or without diacritics."
        ),
        validators=[Optional(), Length(max=300)],
    )
    submit = SubmitField(_l("Save"))

    def variant_list(self) -> list[str]:
        # "|" separates stored variants, so it cannot be part of one.
        parts = re.split(r"[\r\n|]+", self.variants.data or "")
        return [part.strip() for part in parts if part.strip()]

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.courses.digcomp import COMPETENCES, competence_label
from app.uploads import Utf8TextFile

from .models import QUIZ_KIND_LABELS, SHOW_WHEN_LABELS, QuizKind, ShowWhen


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class QuizForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[(k.value, label) for k, label in QUIZ_KIND_LABELS.items()],
        default=QuizKind.PRACTICE.value,
        description=_l(
            "A pre-test and a post-test of the same run are compared to measure what learners gained."
        ),
    )
    bank_id = SelectField(_l("Question bank"), coerce=int, choices=[])
    per_competence = IntegerField(
        _l("Questions per competence"),
        validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("Leave empty to use every question of the bank."),
    )
    shuffle_questions = BooleanField(_l("Shuffle the questions for each attempt"), default=True)
    shuffle_choices = BooleanField(_l("Shuffle the choices within questions"), default=True)
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes)"),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description=_l("Leave empty for no time limit."),
    )
    max_attempts = IntegerField(
        _l("Attempts allowed"),
        validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("Leave empty for unlimited attempts."),
    )
    pass_mark = DecimalField(
        _l("Pass mark (%)"), places=0, validators=[InputRequired(), NumberRange(min=0, max=100)]
    )
    opens_at = DateTimeLocalField(
        _l("Opens"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    closes_at = DateTimeLocalField(_l("Closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    show_results = SelectField(
        _l("Show learners their score"),
        choices=[(k.value, label) for k, label in SHOW_WHEN_LABELS.items()],
        default=ShowWhen.AFTER_SUBMIT.value,
    )
    show_answers = SelectField(
        _l("Show learners the right answers"),
        choices=[(k.value, label) for k, label in SHOW_WHEN_LABELS.items()],
        default=ShowWhen.AFTER_CLOSE.value,
    )
    submit = SubmitField(_l("Save"))


LANGUAGE_CHOICES = [("en", "English"), ("sq", "Shqip"), ("sr", "Srpski")]


class GiftImportForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=int, choices=[])
    bank_id = SelectField(
        _l("Import into"),
        coerce=_optional_int,
        choices=[],
        validators=[Optional()],
        description=_l(
            "A new bank, or a bank you imported before (questions with the same id are updated)."
        ),
    )
    title = StringField(_l("Title of the new bank"), validators=[Optional(), Length(max=200)])
    language = SelectField(_l("Language of the questions"), choices=LANGUAGE_CHOICES, default="en")
    competence = SelectField(
        _l("DigComp competence"),
        choices=[(code, competence_label(code)) for code in COMPETENCES],
        description=_l("For questions without a [tag:digcomp-…] comment."),
    )
    level = IntegerField(
        _l("Proficiency level (1–8)"),
        default=2,
        validators=[InputRequired(), NumberRange(min=1, max=8)],
        description=_l("For questions without a [tag:level-…] comment."),
    )
    file = FileField(_l("GIFT file (.txt or .gift)"), validators=[Utf8TextFile()])
    text = TextAreaField(_l("…or paste GIFT text"), validators=[Optional(), Length(max=1_000_000)])
    submit = SubmitField(_l("Import"))

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from .measures import MEASURES
from .models import LEVEL_LABELS, MANUAL, UNIT_LABELS

LANGUAGES = [("en", "English"), ("sq", "Shqip"), ("sr_Latn", "Srpski (latinica)")]


def measure_choices() -> list[tuple[str, str]]:
    return [(MANUAL, _l("Entered by hand (with evidence)"))] + [
        (key, measure.label) for key, measure in MEASURES.items()
    ]


class IndicatorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("As in the logframe, e.g. 1.1 or OP2."),
        validators=[InputRequired(), Length(max=20)],
    )
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=300)])
    level = SelectField(_l("Level"), choices=list(LEVEL_LABELS.items()))
    measure = SelectField(
        _l("Measured by"),
        description=_l("A measure computed from the data, or values entered by hand."),
        choices=measure_choices,
    )
    unit = SelectField(
        _l("Unit"),
        description=_l("Computed measures bring their own unit."),
        choices=list(UNIT_LABELS.items()),
    )
    baseline_value = FloatField(_l("Baseline value"), validators=[Optional()])
    baseline_year = IntegerField(
        _l("Baseline year"), validators=[Optional(), NumberRange(min=1990, max=2100)]
    )
    target = FloatField(_l("Life-of-programme target"), validators=[Optional()])
    means_of_verification = TextAreaField(
        _l("Means of verification"), validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField(_l("Save indicator"))


class ManualValueForm(FlaskForm):
    period_id = SelectField(_l("Reporting period"), coerce=int)
    value = DecimalField(_l("Value"), places=None, validators=[InputRequired()])
    evidence_url = URLField(
        _l("Link to the evidence"), validators=[InputRequired(), Length(max=500)]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save value"))


class ReportForm(FlaskForm):
    """The report page's choices; a GET form, so it changes nothing and needs no token."""

    class Meta:
        csrf = False

    period = SelectField(_l("Reporting period"), validate_choice=False)
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("To"), validators=[Optional()])
    language = SelectField(_l("Language"), choices=LANGUAGES, default="en")
    public = BooleanField(_l("Public: hide small groups"))


class FreezeForm(FlaskForm):
    title = StringField(
        _l("Name of the snapshot"),
        description=_l("e.g. “Q1 report sent to the donor on 15 April”."),
        validators=[InputRequired(), Length(max=200)],
    )
    # What the page showed, carried along so the frozen report is the one that was seen.
    starts_on = DateField(widget=HiddenInput(), validators=[InputRequired()])
    ends_on = DateField(widget=HiddenInput(), validators=[InputRequired()])
    language = HiddenField(validators=[AnyOf([code for code, _name in LANGUAGES])])
    public = HiddenField()
    submit = SubmitField(_l("Freeze this report"))

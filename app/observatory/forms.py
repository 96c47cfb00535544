"""Forms of the Observatory; rules that compare fields or look at the database are the services'."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from app.uploads import TableFile

from .indicator_services import IndicatorValues
from .models import BILINGUAL_LABELS, MATURITY_LABELS, STATUS_LABELS, UPTAKE_LABELS, Bilingual
from .recommendation_services import RecommendationFields
from .services import MeasureFields, MilestoneFields, StrategyFields


def _optional_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _optional_str(value) -> str:
    return "" if value is None else str(value)


class _Titles:
    """English title required, Albanian and Serbian optional (the English one stands in)."""

    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=20)])
    title_en = StringField(_l("Title in English"), validators=[InputRequired(), Length(max=300)])
    title_sq = StringField(_l("Title in Albanian"), validators=[Optional(), Length(max=300)])
    title_sr = StringField(_l("Title in Serbian (Latin)"), validators=[Optional(), Length(max=300)])

    def titles(self) -> dict:
        return {
            "code": self.code.data,
            "title_en": self.title_en.data,
            "title_sq": self.title_sq.data,
            "title_sr": self.title_sr.data,
        }


class StrategyForm(_Titles, FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=40)],
        description=_l("A short name, such as DA-2030."),
    )
    starts_year = IntegerField(_l("First year"), validators=[InputRequired()])
    ends_year = IntegerField(_l("Last year"), validators=[InputRequired()])

    def fields(self) -> StrategyFields:
        return StrategyFields(
            **self.titles(), starts_year=self.starts_year.data, ends_year=self.ends_year.data
        )


class MeasureForm(_Titles, FlaskForm):
    responsible = StringField(
        _l("Responsible institution"), validators=[InputRequired(), Length(max=200)]
    )

    def fields(self) -> MeasureFields:
        return MeasureFields(**self.titles(), responsible=self.responsible.data)


class MilestoneForm(_Titles, FlaskForm):
    responsible = StringField(
        _l("Responsible institution"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave empty when it is the measure's responsible institution."),
    )
    due_on = DateField(_l("Due date"), validators=[InputRequired()])

    def fields(self) -> MilestoneFields:
        return MilestoneFields(
            **self.titles(), responsible=self.responsible.data, due_on=self.due_on.data
        )


class AssessmentForm(FlaskForm):
    status = RadioField(
        _l("State of the milestone"),
        choices=[(s.value, label) for s, label in STATUS_LABELS.items()],
        validators=[InputRequired()],
    )
    evidence = TextAreaField(
        _l("Evidence links"),
        validators=[Optional(), Length(max=5000)],
        description=_l("One link per line: official documents, news, the institution's site."),
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])
    assessed_on = DateField(_l("Assessed on"), validators=[InputRequired()])


class IndicatorForm(FlaskForm):
    online_services = IntegerField(_l("Online services"), validators=[Optional()])
    service_maturity = SelectField(
        _l("Service maturity"),
        coerce=_optional_int,
        choices=[("", _l("Not measured"))] + [(str(k), v) for k, v in MATURITY_LABELS.items()],
        validators=[Optional()],
    )
    transparency_score = IntegerField(
        _l("Website transparency score"),
        validators=[Optional()],
        description=_l("From 0 to 100."),
    )
    bilingual = SelectField(
        _l("Bilingual website"),
        coerce=_optional_str,
        choices=[("", _l("Not measured"))] + [(b.value, v) for b, v in BILINGUAL_LABELS.items()],
        validators=[Optional()],
    )
    open_datasets = IntegerField(_l("Open datasets"), validators=[Optional()])

    def values(self) -> IndicatorValues:
        return IndicatorValues(
            online_services=self.online_services.data,
            service_maturity=self.service_maturity.data,
            transparency_score=self.transparency_score.data,
            # Optional() lets a blank choice through unchecked: blank means not measured.
            bilingual=Bilingual(value) if (value := (self.bilingual.data or "").strip()) else None,
            open_datasets=self.open_datasets.data,
        )


class RecommendationForm(FlaskForm):
    year = IntegerField(_l("Year of the report"), validators=[InputRequired()])
    number = IntegerField(
        _l("Number"),
        validators=[Optional()],
        description=_l("Leave empty for the next free number of the year."),
    )
    text_en = TextAreaField(
        _l("Recommendation in English"), validators=[InputRequired(), Length(max=5000)]
    )
    text_sq = TextAreaField(
        _l("Recommendation in Albanian"), validators=[Optional(), Length(max=5000)]
    )
    text_sr = TextAreaField(
        _l("Recommendation in Serbian (Latin)"), validators=[Optional(), Length(max=5000)]
    )
    addressed_to = StringField(
        _l("Addressed to"),
        validators=[InputRequired(), Length(max=300)],
        description=_l("The institutions expected to act on it."),
    )

    def fields(self) -> RecommendationFields:
        return RecommendationFields(
            year=self.year.data,
            number=self.number.data,
            text_en=self.text_en.data,
            text_sq=self.text_sq.data,
            text_sr=self.text_sr.data,
            addressed_to=self.addressed_to.data,
        )


class UptakeForm(FlaskForm):
    uptake = RadioField(
        _l("Uptake"),
        choices=[(u.value, label) for u, label in UPTAKE_LABELS.items()],
        validators=[InputRequired()],
    )
    note = TextAreaField(_l("What the institutions did"), validators=[Optional(), Length(max=5000)])
    assessed_on = DateField(_l("Assessed on"), validators=[InputRequired()])


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(_l("Choose a file to upload.")), TableFile()],
        description=_l("Up to 5 MB. Column names may be in English, Albanian or Serbian."),
    )
    submit = SubmitField(_l("Check the file"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from app.i18n import LOCALE_NAMES
from app.places.queries import municipality_id_from_choice
from app.uploads import TableFile

from .models import AGE_BAND_BOUNDS, SEX_LABELS, TARGET_GROUP_LABELS, AgeBand, Sex, TargetGroup
from .queries import PeopleFilters
from .services import PersonFields, birth_year_problem


def _optional_str(value) -> str:
    return "" if value is None else str(value)


# "" → None, "7" → 7: for the optional selects of ids.
_optional_int = municipality_id_from_choice


class PersonFieldsForm(FlaskForm):
    """The fields a person and their manager both edit; subclasses add the rest."""

    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    sex = SelectField(
        _l("Sex"),
        choices=[(s.value, label) for s, label in SEX_LABELS.items()],
        default=Sex.UNDISCLOSED.value,
    )
    birth_year = IntegerField(
        _l("Birth year"),
        validators=[Optional()],
        description=_l("If you prefer not to give the year, choose an age group instead."),
    )
    age_band = SelectField(
        _l("Age group"),
        coerce=_optional_str,
        validators=[Optional()],
        choices=[("", _l("Not given"))] + [(band.value, band.value) for band in AGE_BAND_BOUNDS],
    )
    municipality_id = SelectField(
        _l("Municipality"), coerce=_optional_int, choices=[], validators=[Optional()]
    )
    institution_id = SelectField(
        _l("Institution"), coerce=_optional_int, choices=[], validators=[Optional()]
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=150)])
    department = StringField(
        _l("Department"),
        validators=[Optional(), Length(max=150)],
        description=_l("Directorate for officials, faculty for students."),
    )
    target_group = SelectField(
        _l("Target group"),
        choices=[(t.value, label) for t, label in TARGET_GROUP_LABELS.items()],
        default=TargetGroup.OTHER.value,
    )
    consent_photos = BooleanField(_l("Photos of me taken at trainings may be published"))
    consent_public_name = BooleanField(_l("My name may appear in public reports"))

    def validate_birth_year(self, field):
        problem = birth_year_problem(field.data, date.today())
        if problem:
            raise ValidationError(problem)

    def person_fields(self) -> PersonFields:
        return PersonFields(
            first_name=self.first_name.data,
            last_name=self.last_name.data,
            phone=self.phone.data,
            sex=Sex(self.sex.data),
            birth_year=self.birth_year.data,
            age_band=AgeBand(self.age_band.data) if self.age_band.data else None,
            municipality_id=self.municipality_id.data,
            institution_id=self.institution_id.data,
            position=self.position.data,
            department=self.department.data,
            target_group=TargetGroup(self.target_group.data),
            consent_photos=self.consent_photos.data,
            consent_public_name=self.consent_public_name.data,
        )


class ProfileForm(PersonFieldsForm):
    locale = SelectField(_l("Interface language"), choices=list(LOCALE_NAMES.items()))
    submit = SubmitField(_l("Save my profile"))


class PersonForm(PersonFieldsForm):
    email = EmailField(
        _l("E-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )
    consent_photos = BooleanField(_l("Consents to photos being published"))
    consent_public_name = BooleanField(_l("Consents to their name in public reports"))
    submit = SubmitField(_l("Save"))


class PeopleFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(_l("Name or e-mail"), validators=[Optional(), Length(max=100)])
    programme = SelectField(
        _l("Programme"), coerce=_optional_int, choices=[], validators=[Optional()]
    )
    municipality = SelectField(
        _l("Municipality"), coerce=_optional_int, choices=[], validators=[Optional()]
    )
    target_group = SelectField(
        _l("Target group"),
        validators=[Optional()],
        choices=[("", _l("Any"))] + [(t.value, label) for t, label in TARGET_GROUP_LABELS.items()],
    )
    needs_review = BooleanField(_l("Only those needing review"))

    def filters(self) -> PeopleFilters:
        """The filters that passed validation; an invalid one is ignored, not an error page."""

        def valid(field):
            return None if field.errors else field.data

        return PeopleFilters(
            q=valid(self.q),
            programme_id=valid(self.programme),
            municipality_id=valid(self.municipality),
            target_group=TargetGroup(self.target_group.data) if valid(self.target_group) else None,
            needs_review=bool(self.needs_review.data),
        )


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(_l("Choose a file to upload.")), TableFile()],
        description=_l(
            "Up to 5 MB and 5,000 rows. Column names may be in English, Albanian or Serbian."
        ),
    )
    submit = SubmitField(_l("Check the file"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from app.auth.roles import PROGRAMME_ROLES, ROLE_LABELS
from app.database import row_id

from .services import MAX_THRESHOLD, MIN_THRESHOLD


class ProgrammeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("A short unique code, e.g. DL-2026. Stored in capitals."),
        validators=[InputRequired(), Length(max=40)],
    )
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    donor = StringField(_l("Donor"), validators=[InputRequired(), Length(max=200)])
    grant_code = StringField(_l("Grant code"), validators=[Optional(), Length(max=80)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20_000)])
    starts_on = DateField(_l("Start date"), validators=[InputRequired()])
    ends_on = DateField(_l("End date"), validators=[InputRequired()])
    attendance_threshold = IntegerField(
        _l("Attendance threshold (%)"),
        description=_l(
            "Share of a course's sessions a person must attend to count as trained (50–100)."
        ),
        default=80,
        render_kw={"min": MIN_THRESHOLD, "max": MAX_THRESHOLD},
        validators=[InputRequired(), NumberRange(min=MIN_THRESHOLD, max=MAX_THRESHOLD)],
    )
    min_public_cell = IntegerField(
        _l("Smallest group shown in public reports"),
        description=_l(
            "Breakdown cells with fewer people are hidden in reports marked public (1–50)."
        ),
        default=5,
        render_kw={"min": 1, "max": 50},
        validators=[Optional(), NumberRange(min=1, max=50)],
    )
    iati_identifier = StringField(
        _l("IATI activity identifier"),
        description=_l("Your organisation's IATI reference, a hyphen and the activity's own id."),
        validators=[
            Optional(),
            Length(max=150),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9_.:-]*-[A-Za-z0-9_.:-]+$",
                message=_l("Use letters, digits and - _ . : only, e.g. XM-DAC-47066-DL-2026."),
            ),
        ],
    )
    submit = SubmitField(_l("Save"))


class PeriodForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("As the donor calls it, e.g. “Year 1” or “2026 Q1”."),
        validators=[InputRequired(), Length(max=80)],
    )
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    submit = SubmitField(_l("Add period"))


class AccountSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    account = SearchField(
        _l("Find an account by e-mail"),
        description=_l("Type at least three characters of the address."),
        validators=[Optional(), Length(max=254)],
    )


class MemberForm(FlaskForm):
    # Choices are the accounts found by the search; the view checks the account exists.
    user_id = SelectField(
        _l("Account"),
        coerce=row_id,
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose an account."))],
    )
    role = SelectField(
        _l("Role in the programme"),
        choices=[(role.value, ROLE_LABELS[role]) for role in PROGRAMME_ROLES],
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Add member"))

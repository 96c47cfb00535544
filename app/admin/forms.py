from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Email, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.roles import ROLE_LABELS, Role
from app.people.models import INSTITUTION_TYPE_LABELS, InstitutionType

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]
INSTITUTION_TYPE_CHOICES = [(kind.value, INSTITUTION_TYPE_LABELS[kind]) for kind in InstitutionType]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(_l("Name or e-mail"), validators=[Optional(), Length(max=100)])
    role = SelectField(
        _l("Role"), choices=[("", _l("Any"))] + ROLE_CHOICES, validators=[Optional()]
    )
    active = SelectField(
        _l("State"),
        choices=[("", _l("Any")), ("yes", _l("Active")), ("no", _l("Deactivated"))],
        validators=[Optional()],
    )


class AccountForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES)
    active = BooleanField(
        _l("The account is active"),
        description=_l("A deactivated account cannot sign in and is signed out at once."),
    )
    submit = SubmitField(_l("Save the account"))

    def role_set(self) -> set[Role]:
        return {Role(value) for value in self.roles.data or []}


class InviteForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail"),
        description=_l("The person receives a link there to choose a password."),
        validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES, default=[Role.LEARNER.value])
    submit = SubmitField(_l("Create the account and send the link"))

    def role_set(self) -> set[Role]:
        return {Role(value) for value in self.roles.data or []}


class InstitutionFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Name"), validators=[Optional(), Length(max=100)])
    type = SelectField(
        _l("Type"), choices=[("", _l("Any"))] + INSTITUTION_TYPE_CHOICES, validators=[Optional()]
    )


class InstitutionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    type = SelectField(_l("Type"), choices=INSTITUTION_TYPE_CHOICES, validators=[InputRequired()])
    # Choices are filled by the view; "" means no municipality (ministries, national agencies).
    municipality = SelectField(_l("Municipality"), choices=[], coerce=str, validators=[Optional()])
    submit = SubmitField(_l("Save"))

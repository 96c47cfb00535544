from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from app.i18n import LOCALE_NAMES


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)])
    submit = SubmitField(_l("Sign in"))


class SignUpForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[InputRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[InputRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
        validators=[InputRequired(), Length(max=1024)],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The passwords do not match.")),
        ],
    )
    submit = SubmitField(_l("Create account"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
        validators=[InputRequired(), Length(max=1024)],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The passwords do not match.")),
        ],
    )
    submit = SubmitField(_l("Save password"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired()])
    password = PasswordField(
        _l("New password"),
        description=_l(
            "At least 12 characters. Other browsers signed in to your account will be signed out."
        ),
        validators=[InputRequired(), Length(max=1024)],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The passwords do not match.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=list(LOCALE_NAMES.items()))
    submit = SubmitField(_l("Change language"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l(
            "The 6-digit code from your authenticator app, or one of your recovery codes."
        ),
        validators=[InputRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Continue"))


class SetupForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        description=_l("Enter the 6-digit code the app shows now."),
        validators=[InputRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Turn on two-step sign-in"))


class RegenerateCodesForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        description=_l("Your old recovery codes stop working."),
        validators=[InputRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Make new recovery codes"))


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)])
    code = StringField(
        _l("Code"),
        description=_l("A code from the app or a recovery code."),
        validators=[InputRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code"},
    )
    submit = SubmitField(_l("Turn off two-step sign-in"))

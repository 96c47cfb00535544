from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange

from .models import FORMAT_LABELS, KIND_LABELS, LANGUAGE_LABELS, CertificateKind, JobFormat
from .signing import MAX_TOKEN_LENGTH


class RuleForm(FlaskForm):
    kind = SelectField(
        _l("Certificate"),
        choices=[(k.value, label) for k, label in KIND_LABELS.items()],
        default=CertificateKind.COMPLETION.value,
    )
    min_attendance = IntegerField(
        _l("Minimum attendance (%)"),
        description=_l("Share of the sessions held since the learner enrolled (0–100)."),
        render_kw={"min": 0, "max": 100},
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    require_post_test = BooleanField(_l("The learner must pass the post-test"))
    require_survey = BooleanField(_l("The learner must fill in the course feedback survey"))
    language = SelectField(
        _l("Language of the certificate"),
        choices=[(k.value, label) for k, label in LANGUAGE_LABELS.items()],
    )
    submit = SubmitField(_l("Save the rule"))


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        description=_l("Shown to anyone who verifies the certificate."),
        validators=[InputRequired(), Length(max=500)],
    )
    submit = SubmitField(_l("Revoke the certificate"))


class ReissueForm(FlaskForm):
    reason = StringField(
        _l("What changed"),
        description=_l(
            "For example: name corrected. Correct the learner's profile first: the new "
            "certificate uses it as it is now."
        ),
        validators=[InputRequired(), Length(max=500)],
    )
    submit = SubmitField(_l("Re-issue"))


class JobForm(FlaskForm):
    output_format = RadioField(
        _l("Download as"),
        choices=[(f.value, label) for f, label in FORMAT_LABELS.items()],
        default=JobFormat.ZIP.value,
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Issue the certificates of this run"))


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form on a public page

    code = StringField(
        _l("Verification code"),
        description=_l("Printed on the certificate under its number, e.g. 7K2QM-8XD4P-…"),
        validators=[InputRequired(), Length(max=60)],
    )
    submit = SubmitField(_l("Verify"))


class OfflineForm(FlaskForm):
    payload = TextAreaField(
        _l("Payload or QR code address"),
        description=_l(
            "Paste the address read from the certificate's QR code, or the payload after its #."
        ),
        validators=[InputRequired(), Length(max=MAX_TOKEN_LENGTH + 300)],
    )
    submit = SubmitField(_l("Check the signature"))

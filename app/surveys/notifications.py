"""Survey invitations by e-mail, sent after the commit that created them."""

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.mail import send_mail

from .models import Survey, SurveyKind
from .services import Delivery


def send_invitations(survey: Survey, deliveries: list[Delivery]) -> int:
    """E-mail each invitation in the language the course was taught in; returns how many."""
    course = survey.run.course
    with force_locale(survey.run.language or "en"):
        title = course.localized("title")
        for delivery in deliveries:
            link = url_for("surveys.answer", token=delivery.token, _external=True)
            if survey.kind == SurveyKind.REACTION:
                subject = _("How was the course? %(title)s", title=title)
                body = _(
                    "Thank you for taking part in %(title)s. Please tell us in two minutes how "
                    "useful it was; your comments stay anonymous unless you sign them.\n\n%(link)s\n",
                    title=title,
                    link=link,
                )
            else:
                subject = _("Are you using what you learned? %(title)s", title=title)
                body = _(
                    "A few months ago you took part in %(title)s. Have you been able to use what "
                    "you learned at work? Your answer helps us improve the training; it takes two "
                    "minutes and stays anonymous unless you sign it.\n\n%(link)s\n",
                    title=title,
                    link=link,
                )
            send_mail(delivery.email, subject, body)
    return len(deliveries)

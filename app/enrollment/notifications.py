"""E-mails about enrolment, sent after the commit that decided them."""

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.mail import send_mail

from .models import Enrollment, EnrollmentStatus


def _send(enrollment: Enrollment, subject_text, body_text) -> None:
    person = enrollment.person
    if not person.email:
        return
    with force_locale("en"):
        link = url_for("courses.run", run_id=enrollment.run_id, _external=True)
        title = enrollment.run.course.title_en
        send_mail(person.email, subject_text(title), body_text(title, link))


def seats_given(promoted: list[Enrollment]) -> None:
    for enrollment in promoted:
        _send(
            enrollment,
            lambda title: _("A seat is yours: %(title)s", title=title),
            lambda title, link: _(
                "A seat became free and you moved up from the waiting list. "
                "You are now enrolled in %(title)s.\n\n%(link)s\n",
                title=title,
                link=link,
            ),
        )


def request_decided(enrollment: Enrollment) -> None:
    if enrollment.status == EnrollmentStatus.REJECTED:
        _send(
            enrollment,
            lambda title: _("Your enrolment request: %(title)s", title=title),
            lambda title, link: _(
                "Your request to join %(title)s was not accepted this time.\n\n%(link)s\n",
                title=title,
                link=link,
            ),
        )
    else:
        _send(
            enrollment,
            lambda title: _("Your enrolment request: %(title)s", title=title),
            lambda title, link: _(
                "Your request to join %(title)s was approved. Status: %(status)s.\n\n%(link)s\n",
                title=title,
                link=link,
                status=enrollment.status_label,
            ),
        )

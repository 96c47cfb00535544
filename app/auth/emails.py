"""The e-mails accounts receive; composed here, sent by the view after the commit."""

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.mail import send_mail


def _locale(user) -> str | None:
    return getattr(user, "locale", None)


def send_confirmation(email: str, user, token: str) -> None:
    with force_locale(_locale(user) or "en"):
        link = url_for("auth.confirm_email", token=token, _external=True)
        send_mail(
            email,
            _("Confirm your Akademia account"),
            _(
                "Welcome to Akademia. Confirm your e-mail address to start:\n\n%(link)s\n",
                link=link,
            ),
        )


def send_password_link(email: str, user, token: str, *, new_account: bool = False) -> None:
    with force_locale(_locale(user) or "en"):
        link = url_for("auth.reset_password", token=token, _external=True)
        if new_account:
            body = _(
                "You are registered as a participant in an Akademia programme. "
                "Choose a password to open your account:\n\n%(link)s\n\n"
                "The link works for one hour.",
                link=link,
            )
        else:
            body = _(
                "Someone asked to reset the password of your Akademia account. "
                "If it was you, choose a new password here:\n\n%(link)s\n\n"
                "The link works for one hour. If it was not you, ignore this e-mail.",
                link=link,
            )
        send_mail(email, _("Your Akademia password"), body)


def send_already_registered(email: str, user, token: str) -> None:
    with force_locale(_locale(user) or "en"):
        link = url_for("auth.reset_password", token=token, _external=True)
        send_mail(
            email,
            _("You already have an Akademia account"),
            _(
                "Someone tried to sign up with this address, which already has an account. "
                "Sign in, or if you forgot your password, choose a new one here:\n\n%(link)s\n",
                link=link,
            ),
        )

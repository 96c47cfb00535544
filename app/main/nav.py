"""The menu entries each role sees."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.attendance.models import Notification
from app.auth.roles import Role
from app.extensions import db


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    badge: int = 0


def unread_notifications(person_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.person_id == person_id, Notification.read_at.is_(None)
        )
    )


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    items = [
        NavItem(_("Certificates"), url_for("certificates.mine")),
        NavItem(_("Calendar"), url_for("schedule.my_calendar")),
        NavItem(
            _("Notifications"),
            url_for("schedule.notifications"),
            badge=unread_notifications(current_user.person_id),
        ),
    ]
    if current_user.is_admin or current_user.has_role(Role.TRAINER):
        items.append(NavItem(_("Teaching"), url_for("courses.teaching")))
    if current_user.is_admin or current_user.has_role(Role.MANAGER):
        items.append(NavItem(_("Programmes"), url_for("programmes.index")))
        items.append(NavItem(_("People"), url_for("people.index")))
    if current_user.is_admin:
        items.append(NavItem(_("Administration"), url_for("admin.index")))
    return items

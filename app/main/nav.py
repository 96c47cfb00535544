"""The menu entries each role sees."""

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    items = []
    if current_user.is_admin or current_user.has_role(Role.TRAINER):
        items.append(NavItem(_("Teaching"), url_for("courses.teaching")))
    if current_user.is_admin or current_user.has_role(Role.MANAGER):
        items.append(NavItem(_("Programmes"), url_for("programmes.index")))
        items.append(NavItem(_("People"), url_for("people.index")))
    if current_user.is_admin:
        items.append(NavItem(_("Administration"), url_for("admin.index")))
    return items

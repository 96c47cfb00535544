"""The one place where roles are defined."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.TRAINER: _l("Trainer"),
    Role.MANAGER: _l("Programme manager"),
    Role.ADMIN: _l("Administrator"),
}

# Roles that are scoped to programmes through ProgrammeMember rows.
PROGRAMME_ROLES = (Role.MANAGER, Role.TRAINER)

# Roles whose holders must sign in with a second factor (app/auth/two_factor.py).
TWO_FACTOR_ROLES = (Role.ADMIN, Role.MANAGER)

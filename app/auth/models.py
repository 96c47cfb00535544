import hashlib
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from app.auth.roles import TWO_FACTOR_ROLES, Role
from app.extensions import db, str_enum
from app.people.models import Person
from app.timeutil import utcnow


class User(UserMixin, db.Model):
    """An account that can sign in; the person behind it is a Person."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    email_confirmed_at: so.Mapped[datetime | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column()
    # Two-factor sign-in (app/auth/two_factor.py). The secret is encrypted; while
    # totp_enabled_at is empty it is only a set-up in progress and not asked for.
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    totp_enabled_at: so.Mapped[datetime | None] = so.mapped_column()
    # The last accepted 30-second step: a code is refused unless its step is later.
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)

    person: so.Mapped[Person] = so.relationship(lazy="joined", innerjoin=True)
    role_rows: so.Mapped[list["UserRole"]] = so.relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Set by the session loader: Flask-Login stores the session token, not the user id,
    # so that ending a session server-side makes its cookie anonymous.
    session_token = None  # not a column

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def email(self) -> str | None:
        return self.person.email

    @property
    def name(self) -> str:
        return self.person.full_name

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def two_factor_required(self) -> bool:
        return self.has_role(*TWO_FACTOR_ROLES)


class UserRole(db.Model):
    __table_args__ = (sa.UniqueConstraint("user_id", "role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    role: so.Mapped[Role] = so.mapped_column(str_enum(Role, 20))

    user: so.Mapped[User] = so.relationship(back_populates="role_rows")


class UserSession(db.Model):
    """A signed-in browser; deleting the row signs that browser out."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    user: so.Mapped[User] = so.relationship()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class LoginFailure(db.Model):
    """Failed sign-ins per account key, for throttling guessing against one account."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email_key: so.Mapped[str] = so.mapped_column(sa.String(254), index=True)
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its hash is kept."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    used_at: so.Mapped[datetime | None] = so.mapped_column()

"""Accounts: OTEC staff (admin), instructors and participants."""

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, Float, Index, Integer, String, func
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

ROLES = ("admin", "instructor", "participant")
ROLE_LABELS = {"admin": "Administrador OTEC", "instructor": "Instructor", "participant": "Participante"}


class AccountMixin(UserMixin):
    """What pages ask of the signed-in account (id, role, active, session_version), whether an ORM User or a plain
    SignedInUser."""

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember cookies: the id and the session version."""
        return f"{self.id}:{self.session_version or 0}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.active)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"

    @property
    def is_participant(self) -> bool:
        return self.role == "participant"

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "instructor")

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class User(AccountMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), unique=True, index=True)
    run: Mapped[str | None] = mapped_column(String(10), unique=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="participant")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Part of every sign-in cookie: raising it (sign-out, password change, "cerrar sesiones") voids all copies.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A password someone else chose (an import's shared one, an admin's): the owner must replace it.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    def end_sessions(self) -> None:
        """Every sign-in cookie issued so far stops working at its next request (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """Costs one hash check even without a stored hash, so no answer is faster for a missing password."""
        if not self.password_hash:
            check_password_hash(dummy_hash(), password)
            return False
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role} {self.email or self.run}>"


@dataclass(frozen=True, eq=False)
class SignedInUser(AccountMixin):
    """The signed-in account as a page that only reads it sees it (views marked `signed_in_as_row`): a plain row,
    not a User (the ORM's load was ~5 % of a course page, bench/README.md). Its fields are User's columns."""

    id: int
    full_name: str
    email: str | None
    run: str | None
    role: str
    active: bool
    session_version: int
    must_change_password: bool


# Sign-in by e-mail compares lower(email) (any case): without this index that is a scan of every account.
Index("ix_users_email_lower", func.lower(User.email))


_DUMMY_HASHES: dict[str, str] = {}


def dummy_hash() -> str:
    """A hash of nothing anyone knows, made with the configured method: checking a password against it costs
    what checking a real account's does, so a sign-in for an unknown account is not faster (enumeration)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _DUMMY_HASHES[method]


class RateLimitCounter(db.Model):
    """One fixed-window counter of Flask-Limiter (app/auth/throttle.py): shared by every worker and server."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds, as the limits library counts

"""Sign-in and account rules, free of `request`."""

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.run import InvalidRun, looks_like_run, normalize_run
from app.extensions import db


def load_user(user_id: str) -> User | None:
    """The signed-in user; a deactivated account is signed out at its next request."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def identifier_key(identifier: str) -> str:
    """One spelling per account, so throttling counts `11.111.111-1` and `111111111` together."""
    identifier = (identifier or "").strip()[:254]
    if looks_like_run(identifier):
        try:
            return normalize_run(identifier)
        except InvalidRun:
            pass
    return identifier.lower()


def find_by_identifier(identifier: str) -> User | None:
    """A user by RUN (any spelling) or e-mail (any case)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    if looks_like_run(identifier):
        try:
            run = normalize_run(identifier)
        except InvalidRun:
            return None
        return db.session.execute(select(User).where(User.run == run)).scalar_one_or_none()
    return db.session.execute(
        select(User).where(func.lower(User.email) == identifier.lower())
    ).scalar_one_or_none()


def authenticate(identifier: str, password: str) -> User | None:
    user = find_by_identifier(identifier)
    if user is None or not user.active or not user.check_password(password or ""):
        return None
    return user


def change_password(user: User, current: str, new: str) -> str | None:
    """Return an error message, or None when the password was changed."""
    if not user.check_password(current):
        return "La contraseña actual no es correcta."
    if len(new) < 8:
        return "La nueva contraseña debe tener al menos 8 caracteres."
    user.set_password(new)
    db.session.commit()
    return None

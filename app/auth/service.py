"""Sign-in and account rules, free of `request`."""

from collections.abc import Callable
from dataclasses import fields

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, func, select
from werkzeug.security import check_password_hash

from app.auth.models import SignedInUser, User, dummy_hash
from app.auth.run import InvalidRun, looks_like_run, normalize_run
from app.extensions import db, row_copy

# Every request: built once.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))
_USER_ROW_COLUMNS = tuple(User.__table__.c[each.name] for each in fields(SignedInUser))
_USER_ROW_BY_ID = select(*_USER_ROW_COLUMNS).where(User.__table__.c.id == bindparam("user_id"))

# Higher layers that read a row of their own on most plain-row requests (a participant's course) register a reader
# here: reader(user_id, account_columns) returns the account's columns read in one statement with their own, which
# it keeps for later in the request, or NOTHING_TO_ADD when it has nothing to read for this request. On PostgreSQL
# the account's statement of its own was a round trip of every page (bench/README.md).
ACCOUNT_ROW_READERS: list[Callable[[int, tuple], object]] = []
NOTHING_TO_ADD = object()


def signed_in_as_row(view):
    """Marks a view that only reads the signed-in account (its id, name, RUN and role) and hands it to nothing that
    writes it: it gets a SignedInUser, a plain row, instead of a User. Views that change the account or give it to
    the ORM keep the User."""
    view.signed_in_as_row = True
    return view


def _row_will_do() -> bool:
    if not has_request_context():
        return False
    return getattr(current_app.view_functions.get(request.endpoint), "signed_in_as_row", False)


def load_user(user_id: str) -> User | SignedInUser | None:
    """The signed-in user; a deactivated account, or a cookie from before the account's sessions were ended
    (sign-out, password change, "cerrar sesiones"), is signed out at its next request."""
    ident, _, version = (user_id or "").partition(":")
    try:
        if _row_will_do():
            user = row_copy(SignedInUser, _account_row(int(ident)))
        else:
            user = db.session.execute(_USER_BY_ID, {"user_id": int(ident)}).scalar_one_or_none()
        version_number = int(version)
    except (TypeError, ValueError, OverflowError):
        return None
    if user is None or not user.active or version_number != (user.session_version or 0):
        return None
    return user


def _account_row(user_id: int):
    """The account's columns (_USER_ROW_COLUMNS), with what a registered reader reads with them, or alone."""
    for read in ACCOUNT_ROW_READERS:
        row = read(user_id, _USER_ROW_COLUMNS)
        if row is not NOTHING_TO_ADD:
            return row
    return db.session.connection().execute(_USER_ROW_BY_ID, {"user_id": user_id}).first()


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
    """The account, when the password is right; an unknown account costs one hash check too (no enumeration
    by timing)."""
    user = find_by_identifier(identifier)
    if user is None:
        check_password_hash(dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def change_password(user: User, current: str, new: str) -> str | None:
    """Return an error message, or None when the password was changed."""
    if not user.check_password(current):
        return "La contraseña actual no es correcta."
    if len(new) < 8:
        return "La nueva contraseña debe tener al menos 8 caracteres."
    user.set_password(new)
    user.must_change_password = False
    user.end_sessions()
    db.session.commit()
    return None


def sign_out(user: User) -> None:
    """Void every copy of the user's sign-in cookie, not only this browser's."""
    user.end_sessions()
    db.session.commit()

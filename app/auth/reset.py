"""Password reset and invitation links: signed (itsdangerous), expiring and single-use, sent through the outbox.

Single use without a table: the token carries a fingerprint of the account's password hash and session
version, so setting a password (or any "cerrar sesiones") voids every link issued before.
"""

import hashlib
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.auth.models import User
from app.auth.service import find_by_identifier
from app.extensions import db
from app.notify.service import enqueue
from app.timeutil import utcnow

SALT = "pizarra-password-link"
MAX_AGE = {"reset": timedelta(hours=1), "invitation": timedelta(days=7)}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    material = f"{user.id}:{user.password_hash or ''}:{user.session_version or 0}"
    return hashlib.sha256(material.encode()).hexdigest()[:20]


def make_token(user: User, purpose: str = "reset") -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user), "p": purpose})


def user_for_token(token: str) -> User | None:
    """The account the link was made for, while it is unexpired, unused and the account active; else None."""
    try:
        data, issued_at = _serializer().loads(token, max_age=int(max(MAX_AGE.values()).total_seconds()),
                                              return_timestamp=True)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or data.get("p") not in MAX_AGE:
        return None
    if utcnow() - issued_at > MAX_AGE[data["p"]]:
        return None
    try:
        user = db.session.get(User, int(data.get("u")))
    except (TypeError, ValueError, OverflowError):
        return None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def link(token: str) -> str:
    """Absolute link from PUBLIC_BASE_URL (never from the request's Host header, which a visitor controls)."""
    path = current_app.url_map.bind("localhost").build("auth.reset", {"token": token})
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _queue(user: User, purpose: str, template: str, subject: str) -> None:
    body = current_app.jinja_env.get_template(template).render(
        user=user, link=link(make_token(user, purpose)),
        hours=int(MAX_AGE[purpose].total_seconds() // 3600), days=MAX_AGE[purpose].days)
    enqueue(purpose, [user.email], subject, body, user_id=user.id)


def queue_reset(user: User) -> bool:
    """Queue a reset e-mail (the caller commits); False when the account has no e-mail address."""
    if not user.email or not user.active:
        return False
    _queue(user, "reset", "auth/mail/reset.txt", "Restablece tu contraseña de Pizarra")
    return True


def queue_invitation(user: User) -> bool:
    """Queue an invitation to set one's own password (the caller commits); False without an e-mail address."""
    if not user.email or not user.active:
        return False
    _queue(user, "invitation", "auth/mail/invitation.txt", "Te damos la bienvenida a Pizarra")
    return True


def request_reset(identifier: str) -> None:
    """Queue a reset e-mail when the identifier names an active account with an e-mail address, and commit."""
    user = find_by_identifier(identifier)
    if user is not None and queue_reset(user):
        db.session.commit()


def set_own_password(user: User, password: str) -> None:
    """The owner chose a password: the link is spent and every earlier sign-in is ended."""
    user.set_password(password)
    user.must_change_password = False
    user.end_sessions()
    db.session.commit()

"""Rules for changing one's own contact details."""

from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db


def update_contact(user: User, *, email: str | None, phone: str | None, mobile: str | None,
                   password: str) -> str | None:
    """Saves the details and returns None, or returns the reason (Spanish) and changes nothing.

    Staff sign in with their e-mail, so they cannot leave it empty; an address another account uses is refused.
    """
    if not user.check_password(password):
        return "La contraseña actual no es correcta."
    email = (email or "").strip() or None
    if email is None and not user.is_participant:
        return "El personal de la OTEC ingresa con su correo: no puede quedar vacío."
    if email is not None:
        other = db.session.execute(
            select(User.id).where(func.lower(User.email) == email.lower(), User.id != user.id)
        ).first()
        if other is not None:
            return "Ese correo ya lo usa otra cuenta."
    user.email = email
    user.phone = (phone or "").strip() or None
    user.mobile = (mobile or "").strip() or None
    db.session.commit()
    return None

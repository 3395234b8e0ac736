"""OTEC tokens at rest: Fernet-encrypted with TOKEN_ENCRYPTION_KEY, shown only as a masked hint."""

from datetime import date

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from app.sence.models import SenceToken


class TokenKeyError(RuntimeError):
    """The stored token cannot be read with the configured key (key changed or wrong)."""


def _fernet() -> Fernet:
    try:
        return Fernet(current_app.config["TOKEN_ENCRYPTION_KEY"])
    except (TypeError, ValueError) as exc:
        raise TokenKeyError(
            "TOKEN_ENCRYPTION_KEY no es una clave Fernet válida (32 bytes en base64 url-safe)."
        ) from exc


def encrypt(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode("ascii")


def decrypt(token_encrypted: str) -> str:
    try:
        return _fernet().decrypt(token_encrypted.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise TokenKeyError(
            "No se pudo descifrar el token SENCE: TOKEN_ENCRYPTION_KEY cambió desde que se registró. "
            "Registre el token nuevamente."
        ) from exc


def mask(token: str) -> str:
    """`8FCF…4F8F`: enough to tell tokens apart, useless to anyone who reads it."""
    clean = token.strip().upper()
    return f"{clean[:4]}…{clean[-4:]}"


def is_usable(token: SenceToken, today: date) -> bool:
    """Active and not expired: the simulator (and SENCE) refuse a token from its expiry date on."""
    return token.revoked_at is None and (token.expires_on is None or today < token.expires_on)


def status_of(token: SenceToken, today: date) -> str:
    if token.revoked_at is not None:
        return "revocado"
    if token.expires_on is not None and today >= token.expires_on:
        return "vencido"
    return "activo"

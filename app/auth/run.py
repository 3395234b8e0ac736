"""Chilean RUN/RUT: validation and the one stored spelling, `12345678-9` (python-stdnum does the maths)."""

from stdnum.cl import rut as cl_rut
from stdnum.exceptions import ValidationError


class InvalidRun(ValueError):
    """The text is not a valid RUN; `str()` is a Spanish message for the user."""


def normalize_run(text: str | None) -> str:
    """Return `12345678-9` (upper-case K) for any common spelling, or raise InvalidRun."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidRun("Ingresa un RUN.")
    compact = cl_rut.compact(raw)
    body, digit = compact[:-1].lstrip("0"), compact[-1:].upper()
    if not body.isdigit() or len(body) < 6 or len(body) > 8 or digit not in "0123456789K":
        raise InvalidRun(f"«{raw}» no es un RUN: usa el formato 12345678-9.")
    try:
        cl_rut.validate(body + digit)
    except ValidationError:
        raise InvalidRun(f"El RUN {raw} no es válido: el dígito verificador no corresponde.") from None
    return f"{body}-{digit}"


def looks_like_run(text: str) -> bool:
    """True when the sign-in identifier is a RUN rather than an e-mail address."""
    return "@" not in (text or "")

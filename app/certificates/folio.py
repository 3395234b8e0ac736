"""Certificate folios: 80 random bits in Crockford base32, grouped for reading aloud (K7QM-3XPA-9RTD-W2HF).

Unguessable (a forger cannot find a valid folio by trying, the more so behind the verification page's rate
limit) and easy to type: no I, L, O or U; a typed O, I or L is read as 0, 1, 1.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
GROUP = 4
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_folio() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(text: str | None) -> str | None:
    """The stored spelling of a typed folio, or None when it cannot be one (then nothing is looked up)."""
    raw = "".join((text or "").upper().split()).replace("-", "").translate(_TYPOS)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))

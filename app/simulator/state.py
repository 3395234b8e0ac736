"""The v1.1.2 login page's state, kept in the browser but sealed: encrypted and authenticated (Fernet).

The simulator keeps no server-side sessions and sets no cookies, so the original request (with
the OTEC's token), the time the page was first shown and the wrong-password count travel in a
hidden field. Signing alone would leave the token readable in base64; Fernet also encrypts it.
"""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import URLSafeSerializer

MAX_SEALED = 8000  # a sealed state is ~1.5 kB; refuse anything absurd before decrypting it


class StateBox:
    """Seal and open small JSON dicts with a key derived from the simulator's SECRET_KEY."""

    def __init__(self, secret_key: str):
        digest = hashlib.sha256(b"pizarra-simulator-state\x00" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, data: dict) -> str:
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode("ascii")

    def open(self, sealed: str | None) -> dict | None:
        """The dict, or None when missing, tampered with or sealed under another key."""
        if not sealed or len(sealed) > MAX_SEALED:
            return None
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeError):
            return None
        return data if isinstance(data, dict) else None


def signer(secret_key: str, purpose: str) -> URLSafeSerializer:
    """What SENCE and ClaveÚnica hand each other through the browser's address bar: signed, so a
    participant cannot turn a failed ClaveÚnica login into a success by editing the URL."""
    return URLSafeSerializer(secret_key, salt=f"pizarra-simulator-{purpose}")

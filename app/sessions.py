"""Flask's signed session cookie, with its signature checked once per worker for each distinct cookie.

A participant's browser sends the same cookie on every page and every timer poll until something in the session
changes. Flask builds a new serializer and checks the cookie's HMAC on each request (~5 % of a course page,
bench/README.md); the cookie's age is the only thing about it that changes, and it is checked on every request.
"""

import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.memo import BoundedMemo


class VerifiedOnceSessionInterface(SecureCookieSessionInterface):
    """Bounded per worker, as the other per-worker memos: a cookie verified under the same keys is one dict lookup
    and one JSON parse (a fresh session object each time), as long as it is younger than the session lifetime."""

    MAX_REMEMBERED_COOKIES = 4096

    def __init__(self):
        self._serializer: tuple[tuple, URLSafeTimedSerializer] | None = None  # (the keys, their serializer)
        self._verified = BoundedMemo(self.MAX_REMEMBERED_COOKIES)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = _signing_keys(app)
        if keys is None:
            return None
        if self._serializer is None or self._serializer[0] != keys:
            self._serializer = (keys, super().get_signing_serializer(app))
        return self._serializer[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        keys = _signing_keys(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if keys is None or not value:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get((keys, value))
        if known is not None and 0 <= int(time.time()) - known[1] <= max_age:
            return self.session_class(self.serializer.loads(known[0]))
        try:
            data, signed_at = self.get_signing_serializer(app).loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        self._verified.keep((keys, value), (self.serializer.dumps(data), int(signed_at.timestamp())))
        return self.session_class(data)


def _signing_keys(app: Flask) -> tuple | None:
    """The keys Flask signs with, in its order (fallbacks first, the current key last); None without a key."""
    if not app.secret_key:
        return None
    return (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)

"""Sign-in throttling that every worker and server shares.

Flask-Limiter counts in a `limits` storage. Its memory storage is per process (gunicorn -w 2 allowed twice the
failures), so production uses Redis when RATELIMIT_STORAGE_URI (or REDIS_URL) names one, and otherwise this
`database://` storage: fixed-window counters in the application's own database, one atomic upsert per hit.
"""

import hashlib
import time

from flask import Flask, g, request
from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from app.auth.models import RateLimitCounter
from app.extensions import db

COUNTERS = RateLimitCounter.__table__


def _row_key(key: str) -> str:
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """Fixed-window counters in the `rate_limit_counters` table (works on SQLite and PostgreSQL)."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the window, starting a new window when the old one has expired."""
        now = time.time()
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        expired = COUNTERS.c.expires_at <= now
        statement = insert(COUNTERS).values(key=_row_key(key), count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"count": case((expired, amount), else_=COUNTERS.c.count + amount),
                  "expires_at": case((expired, now + expiry), else_=COUNTERS.c.expires_at)},
        ).returning(COUNTERS.c.count)
        with db.engine.begin() as connection:  # its own transaction: never the request's
            return connection.execute(statement).scalar_one()

    def _row(self, key: str):
        with db.engine.connect() as connection:
            return connection.execute(select(COUNTERS.c.count, COUNTERS.c.expires_at)
                                      .where(COUNTERS.c.key == _row_key(key))).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.count if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row is not None and row.expires_at > time.time() else time.time()

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(COUNTERS).where(COUNTERS.c.key == _row_key(key)))


def purge_expired(now: float | None = None) -> int:
    """Drop finished windows (the sweep does it; a live window is never touched)."""
    with db.engine.begin() as connection:
        return connection.execute(delete(COUNTERS).where(COUNTERS.c.expires_at <= (now or time.time()))).rowcount


def warn_if_per_process(app: Flask) -> None:
    """A per-process store lets each worker count failures on its own: say so at start."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if app.config.get("RATELIMIT_ENABLED") and uri.startswith("memory://"):
        app.logger.warning(
            "RATELIMIT_STORAGE_URI=memory:// counts sign-in failures per process: with several workers or servers "
            "each one allows the full limit. Leave it unset (the database is used) or point it to Redis.")


# --- What a failed sign-in is counted against ------------------------------------------------------


def account_key() -> str:
    """One key per account whatever alias was typed (RUN in any spelling, or e-mail), else the typed text."""
    if "_signin_account" not in g:
        from app.auth.service import find_by_identifier, identifier_key

        identifier = request.form.get("identifier", "")
        user = find_by_identifier(identifier)
        g._signin_account = f"user:{user.id}" if user is not None else identifier_key(identifier)
    return g._signin_account


def account_and_client_key() -> str:
    """Failures count per account *and* client: a stranger's guessing does not lock the owner out elsewhere."""
    return f"signin:{account_key()}@{request.remote_addr or ''}"


def client_key() -> str:
    return f"signin-client:{request.remote_addr or ''}"

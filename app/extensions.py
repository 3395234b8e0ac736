"""Flask extensions, created once without an app (bound in create_app)."""

import select
from collections.abc import Sequence

import psycopg
from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, create_engine, event, literal_column
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InvalidatePoolError, SQLAlchemyError
from sqlalchemy.pool import Pool

from app.security import RememberingCSRFProtect

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
login_manager = LoginManager()
csrf = RememberingCSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


AUTOCOMMIT_ENGINE = "pizarra.autocommit_engine"


def init_autocommit_engine(app) -> None:
    """PostgreSQL: a second engine beside Flask-SQLAlchemy's, its connections in autocommit for good. Switching a
    pooled connection to autocommit and back costs SQLAlchemy ~18 µs a request (its isolation-level machinery, not
    the driver: bench/README.md); a pool of its own needs neither. Each worker may then hold two connections. Like
    Flask-SQLAlchemy's engine, it connects on first use, so a forked worker opens its own."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}, isolation_level="AUTOCOMMIT")
        app.extensions[AUTOCOMMIT_ENGINE] = create_engine(url, **options)


def autocommit_engine() -> Engine | None:
    """The app's autocommit engine; None on SQLite, whose driver opens no transaction for a SELECT anyway."""
    return current_app.extensions.get(AUTOCOMMIT_ENGINE)


def app_engines() -> list[Engine]:
    """Every engine the app sends statements through: what a statement count or a dispose must cover."""
    return [engine for engine in (db.engine, autocommit_engine()) if engine is not None]


def without_transaction(view):
    """Marks a view whose request needs no transaction: it reads, and each write it makes is one statement that
    stands alone. On PostgreSQL its statements then run in autocommit, without the BEGIN and COMMIT or ROLLBACK
    round trips (bench/README.md); before writing several statements that belong together it calls
    begin_transaction(). Whatever the method: the answer save (a POST) is marked too."""
    view.without_transaction = True
    return view


def start_without_transaction() -> None:
    """before_request, registered before any other, so the marked page's first statement (the user's load) already
    runs in autocommit. SQLite's driver begins no transaction for a SELECT: there it changes nothing."""
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "without_transaction", False):
        return
    if db.engine.dialect.name == "sqlite" or db.session().in_transaction():
        return
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    g.without_transaction = True


def end_without_transaction(exc) -> None:
    """teardown_request: the autocommit connection goes back to the pool with the request, even where the session
    outlives it (tests share their app context with the requests they make)."""
    if g.pop("without_transaction", False):
        discard_session()


def discard_session() -> None:
    """Roll back the request's session; if the database connection died (restart, failover), drop it unrolled.

    Otherwise the ROLLBACK on a dead connection raises past our error pages and the user gets Werkzeug's
    English 500 (even after a committed SENCE answer).
    """
    try:
        db.session.rollback()
    except SQLAlchemyError:
        current_app.logger.warning("database connection lost; session discarded", exc_info=True)
        db.session().invalidate()


def commit_statement() -> None:
    """Commit a write that stands alone (one statement). In a page without transaction it is committed as it runs:
    only flushed, so the statements after it keep the autocommit connection (a commit would give them a BEGIN)."""
    if g.get("without_transaction"):
        db.session.flush()
    else:
        db.session.commit()


def begin_transaction() -> None:
    """In a page marked without_transaction: the rest of the request runs in an ordinary transaction. Ending the
    session's transaction returns its autocommit connection; the next statement takes one with the engine's
    isolation level (SQLAlchemy resets it on return to the pool). Loaded objects are expired and read again.
    Anywhere else (an ordinary request, SQLite, a command) the session is in a transaction already: nothing to do."""
    if g.pop("without_transaction", None):
        db.session.commit()


def sql_constant(value: str):
    """A string constant of our own code written into the SQL text. A bound IN list or aggregate_strings'
    separator is a "post-compile" parameter that SQLAlchemy writes into the statement again on every execution
    (~25 % of the course statement's cost outside the database, bench/README.md); a constant is written once."""
    return literal_column("'" + value.replace("'", "''") + "'")


def row_copy(kind, values):
    """`kind(*values)`, a frozen copy of a result row's columns, or None when there is no row or its outer-joined
    part is absent (its first column, the id, is NULL)."""
    return None if values is None or values[0] is None else kind(*values)


class RowSlices:
    """A result row read left to right, a few columns at a time (a statement that reads several things at once)."""

    def __init__(self, row):
        self.row, self.start = tuple(row), 0

    def take(self, count: int) -> tuple:
        self.start += count
        return self.row[self.start - count:self.start]


@event.listens_for(Engine, "connect")
def _sqlite_settings(dbapi_connection, connection_record):
    """SQLite ignores foreign keys (and ON DELETE) unless asked, per connection.

    A file database runs in write-ahead-log mode: a commit appends to the -wal file and syncs it once, instead of
    creating, syncing and deleting a rollback journal (bench/README.md: 0.72 → 0.21 ms a commit, a third of the
    CPU), and a participant's save no longer blocks the other workers' reads while it commits. `synchronous`
    stays FULL, so a committed answer survives a power cut as before. The mode is stored in the file; the
    -wal and -shm files beside it belong to it (make demo-reset deletes them with it)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


@event.listens_for(Pool, "checkout")
def _replace_dead_connection(dbapi_connection, connection_record, connection_proxy):
    """A connection the database server ended is replaced before use, without pool_pre_ping's round trip on every
    checkout (one of the three a course page makes on PostgreSQL, one of the timer poll's two: bench/README.md).

    A server that ends a connection (restart, failover, pg_terminate_backend) sends its FATAL message and closes
    the socket, which select() then reports readable at once; an idle connection has nothing to read (Pizarra
    uses no LISTEN). Only then is the connection pinged; if the ping fails, every pooled connection from before
    now is replaced, as pool_pre_ping does. A SQLite file never disconnects: nothing to check.
    """
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except Exception as err:  # a socket closed on our side: psycopg's error, or the OS's
        raise InvalidatePoolError(f"connection unusable: {err}") from err
    if not readable:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as err:
        raise InvalidatePoolError(f"connection ended by the server: {err}") from err


class _ResultOf:
    """What psycopg.Column reads of a cursor, pinned to the result the description was asked for."""

    def __init__(self, cursor, result):
        self.pgresult, self._encoding, self.adapters = result, cursor._encoding, cursor.adapters


class _DescriptionOnDemand(Sequence):
    """A cursor.description whose psycopg Columns are built when something first reads them."""

    def __init__(self, cursor, result):
        self._source, self._count, self._columns = _ResultOf(cursor, result), result.nfields, None

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if self._columns is None:
            self._columns = [psycopg.Column(self._source, i) for i in range(self._count)]
        return self._columns[index]

    def __repr__(self):
        return repr(list(self))


class DescriptionOnDemandCursor(psycopg.Cursor):
    """SQLAlchemy reads cursor.description after every statement, and psycopg builds a Column object for each
    column each time (~1.3 µs a column: 72 for an answer save). For a cached statement SQLAlchemy knows the
    result's columns already and only asks whether there is a description, so the Columns are built only
    when read: by SQLAlchemy on a statement's first run, or by code using the driver directly."""

    @property
    def description(self):
        result = self.pgresult
        if result is None or not result.nfields:
            return super().description  # None, or [] for a result of no columns
        return _DescriptionOnDemand(self, result)


@event.listens_for(Engine, "connect")
def _describe_on_demand(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, psycopg.Connection):
        dbapi_connection.cursor_factory = DescriptionOnDemandCursor

"""Count the SQL statements a piece of work sends, and the ORM objects it loads (how the hot paths' promises of
one query and plain rows are checked)."""

from contextlib import contextmanager, nullcontext

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import DescriptionOnDemandCursor, app_engines, autocommit_engine


def counting():
    """Yield the list of statements the app sends inside the block, filled as they run."""
    return sent_statements(lambda cursor, statement, parameters: statement)


def recorded_parameters():
    """Yield the list of (statement, parameters) the app sends inside the block."""
    return sent_statements(lambda cursor, statement, parameters: (statement, parameters))


def orm_loads():
    """Yield the list of ORM objects loaded from the database inside the block."""
    return _recording([Session], "loaded_as_persistent", lambda session, instance: instance)


@contextmanager
def sent_statements(pick, app=None):
    """Yield the list of pick(cursor, statement, parameters) for every statement the app sends inside the block
    (`app`, when the block runs outside its application context: bench/profile.py).

    PostgreSQL: recorded at the driver's cursor, which SQLAlchemy's statements and the timer poll's (sent on the
    driver itself, app/courses/timer.py) both pass through. Each pool gets an idle connection first, so that a new
    connection's own setup queries are not counted. SQLite: recorded by SQLAlchemy's events."""
    with app.app_context() if app is not None else nullcontext():
        engines, on_postgresql = app_engines(), autocommit_engine() is not None
        for engine in engines if on_postgresql else ():
            with engine.connect():
                pass
    if on_postgresql:
        with _on_the_driver(pick) as seen:
            yield seen
    else:
        with _recording(engines, "before_cursor_execute",
                        lambda conn, cursor, statement, parameters, context, many: pick(cursor, statement, parameters)
                        ) as seen:
            yield seen


@contextmanager
def _on_the_driver(pick):
    """Every psycopg cursor of the app is a DescriptionOnDemandCursor (app/extensions.py): its execute and
    executemany record, then run as before. executemany is one record with every row's parameters, as
    SQLAlchemy's event gives it."""
    seen: list = []
    execute, executemany = DescriptionOnDemandCursor.execute, DescriptionOnDemandCursor.executemany

    def recorded_execute(cursor, query, params=None, **options):
        seen.append(pick(cursor, query, params))
        return execute(cursor, query, params, **options)

    def recorded_executemany(cursor, query, params_seq, **options):
        params_seq = list(params_seq)
        seen.append(pick(cursor, query, params_seq))
        return executemany(cursor, query, params_seq, **options)

    DescriptionOnDemandCursor.execute, DescriptionOnDemandCursor.executemany = recorded_execute, recorded_executemany
    try:
        yield seen
    finally:
        DescriptionOnDemandCursor.execute, DescriptionOnDemandCursor.executemany = execute, executemany


@contextmanager
def _recording(targets, identifier: str, pick):
    """Yield a list filled, while the block runs, with pick(*args) of every `identifier` event of `targets`."""
    seen: list = []

    def record(*args):
        seen.append(pick(*args))

    for target in targets:
        event.listen(target, identifier, record)
    try:
        yield seen
    finally:
        for target in targets:
            event.remove(target, identifier, record)

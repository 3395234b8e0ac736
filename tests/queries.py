"""Count the SQL statements a piece of work sends, and the ORM objects it loads (how the hot paths' promises of
one query and plain rows are checked)."""

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import app_engines


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


def counting():
    """Yield the list of statements the app sends inside the block (through any of its engines), filled as they
    run."""
    return _recording(app_engines(), "before_cursor_execute",
                      lambda conn, cursor, statement, parameters, context, executemany: statement)


def recorded_parameters():
    """Yield the list of (statement, parameters) the app sends inside the block."""
    return _recording(app_engines(), "before_cursor_execute",
                      lambda conn, cursor, statement, parameters, context, executemany: (statement, parameters))


def orm_loads():
    """Yield the list of ORM objects loaded from the database inside the block."""
    return _recording([Session], "loaded_as_persistent", lambda session, instance: instance)

"""Count the SQL statements a piece of work sends, and the ORM objects it loads (how the hot paths' promises of
one query and plain rows are checked)."""

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session


@contextmanager
def _recording(target, identifier: str, pick):
    """Yield a list filled, while the block runs, with pick(*args) of every `identifier` event of `target`."""
    seen: list = []

    def record(*args):
        seen.append(pick(*args))

    event.listen(target, identifier, record)
    try:
        yield seen
    finally:
        event.remove(target, identifier, record)


def counting(engine):
    """Yield the list of statements sent to `engine` inside the block, filled as they run."""
    return _recording(engine, "before_cursor_execute",
                      lambda conn, cursor, statement, parameters, context, executemany: statement)


def recorded_parameters(engine):
    """Yield the list of (statement, parameters) sent to `engine` inside the block."""
    return _recording(engine, "before_cursor_execute",
                      lambda conn, cursor, statement, parameters, context, executemany: (statement, parameters))


def orm_loads():
    """Yield the list of ORM objects loaded from the database inside the block."""
    return _recording(Session, "loaded_as_persistent", lambda session, instance: instance)

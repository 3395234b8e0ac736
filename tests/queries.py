"""Count the SQL statements a piece of work sends (how the hot paths' one-query promises are checked)."""

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def counting(engine):
    """Yield the list of statements sent to `engine` inside the block, filled as they run."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)

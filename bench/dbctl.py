"""The benchmark's own PostgreSQL database: created on the server BENCH_DATABASE_URL names, dropped at the end.

    python -m bench.dbctl create <server-url> <name>   prints the new database's URL
    python -m bench.dbctl drop <server-url> <name>
"""

import re
import sys

import psycopg
from sqlalchemy.engine import make_url

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _admin_conninfo(server_url: str) -> str:
    url = make_url(server_url).set(drivername="postgresql")
    if not url.database:
        url = url.set(database="postgres")
    return url.render_as_string(hide_password=False)


def _execute(server_url: str, sql: str) -> None:
    with psycopg.connect(_admin_conninfo(server_url), autocommit=True) as conn:
        conn.execute(sql)


def create(server_url: str, name: str) -> str:
    _execute(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


def drop(server_url: str, name: str) -> None:
    _execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in {"create", "drop"} or not NAME.match(argv[2]):
        print(__doc__, file=sys.stderr)
        return 2
    action, server_url, name = argv
    if action == "create":
        print(create(server_url, name))
    else:
        drop(server_url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

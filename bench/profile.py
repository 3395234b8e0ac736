"""Profile one page in-process with pyinstrument, and count its SQL queries, on a seeded throw-away database.

    .venv/bin/python -m bench.profile --path /cursos/{course} [--hx] [--requests 300] [--participants 2000]

Uses DATABASE_URL when set (e.g. a PostgreSQL database of your own), else a temporary SQLite file. The
participant is signed in through the real form; {course} is replaced by their course id. This measures
where the time goes inside Flask, not throughput: use `make bench` for that.
"""

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import event, text

from app import create_app
from app.extensions import db
from bench import seed
from bench.client import USER_AGENT
from bench.driver import CHEAP_HASH, _password_hash, acknowledge_notice, cohort

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _app(database_url: str):
    return create_app({"ENV": "production", "SECRET_KEY": "bench-profile", "RATELIMIT_ENABLED": False,
                       "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(), "MAIL_SERVER": "",
                       "SQLALCHEMY_DATABASE_URI": database_url, "PASSWORD_HASH_METHOD": CHEAP_HASH})


def _signed_in_client(app, email: str):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    token = CSRF.search(client.get("/ingresar").get_data(as_text=True)).group(1)
    answer = client.post("/ingresar", data={"csrf_token": token, "identifier": email, "password": seed.PASSWORD})
    assert answer.status_code == 302, answer.status_code
    return client


def _count_queries(engine, counter: Counter):
    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        counter[" ".join(statement.split())[:110]] += 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.profile")
    parser.add_argument("--path", default="/cursos/{course}")
    parser.add_argument("--hx", action="store_true", help="send HX-Request: true, as an htmx poll does")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="pizarra-profile-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'profile.sqlite3'}"
    app = _app(url)
    with app.app_context():
        db.create_all()
        if not seed.course_ids():
            seed.seed_base(_password_hash())
        seed.grow_participants(args.participants, _password_hash())
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        person = cohort()[0]
        acknowledge_notice([person])  # as the bench does: otherwise the page is a redirect to the notice
        db.session.remove()
        queries: Counter = Counter()
        _count_queries(db.engine, queries)
    client = _signed_in_client(app, person["email"])
    path = args.path.format(course=person["course_id"])
    headers = {"HX-Request": "true"} if args.hx else {}
    first = client.get(path, headers=headers)
    print(f"GET {path}: HTTP {first.status_code}, {len(first.data)} bytes")
    for _ in range(20):
        client.get(path, headers=headers)
    queries.clear()
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for _ in range(args.requests):
            client.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    print(f"{args.requests} requests in-process: {1000 * elapsed / args.requests:.2f} ms each, "
          f"{sum(queries.values()) / args.requests:.1f} SQL queries each")
    for statement, count in queries.most_common(15):
        print(f"  {count / args.requests:>4.1f} x {statement}")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

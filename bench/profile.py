"""Profile one page in-process with pyinstrument, and count its SQL queries, on a seeded throw-away database.

    .venv/bin/python -m bench.profile --path /cursos/{course} [--hx] [--requests 300] [--participants 2000]
    .venv/bin/python -m bench.profile --path {attempt}?p=1          # an evaluation's question page
    .venv/bin/python -m bench.profile --path {attempt} --save       # its answer save (htmx POST)
    .venv/bin/python -m bench.profile --path /cursos/{course} --cpu # un-profiled CPU ms per request instead
    .venv/bin/python -m bench.profile --path /cursos/{course} --functions  # own time per function (cProfile)

Uses --database-url when given (e.g. a PostgreSQL database of your own), else a temporary SQLite file. The
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
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy import select

from app import create_app
from app.extensions import db
from bench import seed
from bench.client import USER_AGENT
from bench.driver import CHEAP_HASH, _password_hash, acknowledge_notice, cohort, settle_database
from tests.queries import sent_statements

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


def _start_attempt(app, client, course_id: int) -> tuple[str, dict]:
    """The participant starts the course's evaluation through its pages, as bench/driver.py does: the attempt's
    URL and a save body (two, alternating the option, so that every save changes the stored answer)."""
    from app.evaluations.models import Evaluation

    with app.app_context():
        evaluation = db.session.execute(select(Evaluation).where(Evaluation.course_id == course_id)).scalar_one()
        ids = {"course_id": course_id, "evaluation_id": evaluation.id}
        question = evaluation.questions[0]
        options = [o.id for o in question.options][:2]
        db.session.remove()
    urls = app.url_map.bind("localhost")
    token = CSRF.search(client.get(urls.build("evaluations.show", ids)).get_data(as_text=True)).group(1)
    started = client.post(urls.build("evaluations.start", ids), data={"csrf_token": token})
    assert started.status_code == 303, started.status_code
    attempt = urlsplit(started.headers["Location"]).path
    bodies = [{"csrf_token": token, "shown": str(question.id), f"q{question.id}": str(o)} for o in options]
    return attempt, bodies


def _cpu_rounds(call, requests: int, rounds: int, queries: Counter) -> None:
    """CPU time of this process per request, un-profiled: the figure least disturbed by other load on the
    machine (wall time is printed too). The median and best of the rounds, and the statements each request sent."""
    figures = []
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            call()
        figures.append((1000 * (time.process_time() - cpu) / requests, 1000 * (time.perf_counter() - wall) / requests))
    cpu_ms = sorted(c for c, _ in figures)
    wall_ms = sorted(w for _, w in figures)
    print(f"{rounds} x {requests} requests in-process, un-profiled: CPU {cpu_ms[len(cpu_ms) // 2]:.2f} ms/request "
          f"(median; best {cpu_ms[0]:.2f}), wall {wall_ms[len(wall_ms) // 2]:.2f} ms, "
          f"{sum(queries.values()) / (requests * rounds):.1f} SQL statements each")
    for statement, count in queries.most_common(15):
        print(f"  {count / (requests * rounds):>4.1f} x {statement}")


def _own_time(call, requests: int, callers: str | None) -> None:
    """Where the CPU goes by function (own time, not cumulative): what a flat cost is made of; with `callers`,
    who calls the functions matching it, and how often."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(lambda: [call() for _ in range(requests)])
    stats = pstats.Stats(profiler).sort_stats("tottime")
    if callers:
        stats.print_callers(callers)
    else:
        stats.print_stats(30)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.profile")
    parser.add_argument("--path", default="/cursos/{course}")
    parser.add_argument("--hx", action="store_true", help="send HX-Request: true, as an htmx poll does")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--save", action="store_true", help="POST the answer save to {attempt}/respuestas (htmx)")
    parser.add_argument("--cpu", action="store_true",
                        help="no profiler: CPU ms per request (time.process_time) over --requests, in --rounds rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--functions", action="store_true",
                        help="cProfile instead of pyinstrument: the 30 functions with the most own time")
    parser.add_argument("--callers", metavar="REGEX", default=None,
                        help="with --functions: who calls the functions matching REGEX (e.g. 'local.py:310')")
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="pizarra-profile-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'profile.sqlite3'}"
    app = _app(url)
    with app.app_context():
        db.create_all()
        if not seed.course_ids():
            seed.seed_base(_password_hash())
        seed.grow_participants(args.participants, _password_hash())
        db.session.commit()
        settle_database()
        person = cohort()[0]
        acknowledge_notice([person])  # as the bench does: otherwise the page is a redirect to the notice
        db.session.remove()
    queries: Counter = Counter()
    with sent_statements(lambda cursor, statement, parameters: queries.update([" ".join(statement.split())[:110]]),
                         app):
        return _measure(app, args, person, queries, tmp)


def _measure(app, args, person: dict, queries: Counter, tmp) -> int:
    client = _signed_in_client(app, person["email"])
    attempt, bodies = ("", [])
    if "{attempt}" in args.path:
        attempt, bodies = _start_attempt(app, client, person["course_id"])
    path = args.path.format(course=person["course_id"], attempt=attempt)
    headers = {"Accept-Encoding": "gzip"}  # as wrk asks in make bench: the page's compression is part of its cost
    if args.hx or args.save:
        headers["HX-Request"] = "true"
    turn = iter(range(10**9))

    def call():
        if args.save:
            return client.post(f"{path}/respuestas", data=bodies[next(turn) % 2], headers=headers)
        return client.get(path, headers=headers)

    first = call()
    print(f"{'POST' if args.save else 'GET'} {path}: HTTP {first.status_code}, {len(first.data)} bytes")
    for _ in range(20):
        call()
    queries.clear()
    if args.cpu:
        _cpu_rounds(call, args.requests, args.rounds, queries)
        tmp.cleanup()
        return 0
    if args.functions:
        _own_time(call, args.requests, args.callers)
        tmp.cleanup()
        return 0
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for _ in range(args.requests):
            call()
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

"""A/B of the timer poll with and without the SIC action recorder (issue 14), in-process, on a seeded database.

    .venv/bin/python -m bench.sic_timer [--rounds 5] [--requests 300] [--participants 200] [--database-url URL]

The participant's course has SIC on. Each round polls `courses.timer` (HX-Request) `--requests` times with the
recorder registered, then the same with it removed from the app's after-request hooks; rounds alternate so a
busy machine hurts both alike. Prints the median ms per poll and SQL statements per poll of each.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from app.extensions import db
from app.sic.models import CourseSic
from app.sic.views import record_participant_action
from bench import seed
from bench.driver import _password_hash, cohort
from bench.profile import _app, _signed_in_client
from tests.queries import sent_statements


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.sic_timer")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="pizarra-sic-timer-")
    app = _app(args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}")
    with app.app_context():
        db.create_all()
        if not seed.course_ids():
            seed.seed_base(_password_hash())
        seed.grow_participants(args.participants, _password_hash())
        person = cohort()[0]
        db.session.merge(CourseSic(course_id=person["course_id"], enabled=True, codigo_oferta="B", codigo_grupo="B"))
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.remove()
    with sent_statements(lambda cursor, statement, parameters: None, app) as statements:
        _compare(app, args, person, statements)
    tmp.cleanup()
    return 0


def _compare(app, args, person: dict, statements: list) -> None:
    client = _signed_in_client(app, person["email"])
    path, headers = f"/cursos/{person['course_id']}/timer", {"HX-Request": "true"}
    hooks = app.after_request_funcs[None]
    results = {"with recorder": [], "without recorder": []}
    for _ in range(20):
        client.get(path, headers=headers)
    for _ in range(args.rounds):
        for label in results:
            if label == "without recorder":
                hooks.remove(record_participant_action)
            statements.clear()
            started = time.perf_counter()
            for _ in range(args.requests):
                client.get(path, headers=headers)
            results[label].append((1000 * (time.perf_counter() - started) / args.requests,
                                   len(statements) / args.requests))
            if label == "without recorder":
                hooks.append(record_participant_action)
    for label, rows in results.items():
        print(f"{label}: median {statistics.median(r[0] for r in rows):.3f} ms per poll "
              f"(rounds: {', '.join(f'{r[0]:.3f}' for r in rows)}), {rows[0][1]:.1f} SQL statements per poll")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Capacity: the largest number of participants one server (gunicorn -w 2) serves with p99 <= 100 ms and no
errors, each polling the timer every 30 s and opening the course page every few minutes.

    make soak                          # BENCH_DATABASE_URL=postgresql://... (PostgreSQL, as the issue asks)
    SOAK_STEPS=1000,5000,10000 SOAK_SECONDS=120 make soak

Started by bench/run.sh (same server, database and cleanup as `make bench`). Each step signs in the
participants it needs through the real form (each opens their course page once), then runs wrk (bench/soak.lua)
for WARMUP_SECONDS unmeasured and SOAK_SECONDS measured at the rate those
participants make: N/30 polls (unchanged: 204) + N/PAGE_SECONDS course pages per second. The step passes with
p99 <= 100 ms, no non-2xx or socket error, and at least 90 % of the intended rate achieved (a server that falls
behind slows wrk's paced connections down instead of queueing, so a shortfall is a failure too). The soak stops
after two failing steps in a row, or after the last one: bounded in time, 127.0.0.1 only. On a shared machine a
step can miss from others' load: the machine's busy share is printed with each step.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from app.auth.models import User
from app.courses.models import Enrollment
from app.extensions import db
from bench import load as loadgen
from bench import report, seed
from bench.client import Client
from bench.driver import _app, _password_hash, settle_database

POLL_SECONDS = 30
PAGE_SECONDS = 180  # a course page every three minutes: one request in seven
P99_LIMIT_MS = 100
WARMUP_SECONDS = 10
LUA = Path(__file__).with_name("soak.lua")


def _people(n: int) -> list[dict]:
    from app.courses.timer import timer_state

    emails = [seed.participant_email(k) for k in range(n)]
    rows = []
    for first in range(0, n, 1000):
        rows += db.session.execute(
            select(User.id, User.email, Enrollment.course_id).join(Enrollment, Enrollment.user_id == User.id)
            .where(User.email.in_(emails[first:first + 1000])).order_by(User.id)).all()
    people = []
    for row in rows:
        state = timer_state(row.id, row.course_id)
        people.append({"user_id": row.id, "email": row.email, "course_id": row.course_id,
                       "shown": state.key if state else ""})
    db.session.remove()
    return people


def _acknowledge(people: list[dict]) -> None:
    """They have all read the privacy notice (bulk: one row each, as acknowledge() writes)."""
    from app.privacy.models import NoticeAcknowledgement
    from app.privacy.service import current_notice
    from app.timeutil import utcnow

    notice = current_notice()
    done = set(db.session.execute(select(NoticeAcknowledgement.user_id)).scalars())
    rows = [{"user_id": p["user_id"], "notice_id": notice.id, "version": notice.version, "acknowledged_at": utcnow()}
            for p in people if p["user_id"] not in done]
    if rows:
        db.session.execute(insert(NoticeAcknowledgement), rows)
    db.session.commit()


def _sign_in(client: Client, people: list[dict]) -> None:
    todo = [p for p in people if "cookie" not in p]

    def one(person):
        """Signed in, then the course page once, as after a real sign-in (the first view records the place)."""
        person["cookie"] = client.sign_in(person["email"], seed.PASSWORD)
        page = client.get(f"/cursos/{person['course_id']}", cookie=person["cookie"])
        if page.status != 200:
            raise RuntimeError(f"the course page answered {page.status} for {person['email']}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, todo))


def _step(args, people: list[dict], n: int, cookies: Path) -> dict:
    cookies.write_text("".join(f"{p['cookie']}\t{p['course_id']}\t{p['shown']}\n" for p in people[:n]))
    rate = n / POLL_SECONDS + n / PAGE_SECONDS
    # Enough connections that each waits ~0.5 s between requests: a response time of tens of ms then costs a
    # few per cent of the rate, not a fifth of it (wrk's delay() adds to the response time).
    connections = int(min(400, max(10, rate / 2)))
    pause_ms = max(1, int(1000 * connections / rate) - 3)  # minus a typical response time
    page_every = round((PAGE_SECONDS / POLL_SECONDS) + 1)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{args.seconds}s", "--timeout", "10s", "-s", str(LUA),
               args.base_url, "--", str(cookies), str(pause_ms), str(page_every)]
    warmup = [*command[:3], f"-d{WARMUP_SECONDS}s", *command[4:]]  # connections opened, caches warm: not measured
    subprocess.run(warmup, capture_output=True, text=True, timeout=WARMUP_SECONDS + 60, check=True)
    database = loadgen._postgres_database()
    server_before, db_before = loadgen.server_cpu_seconds(args.server_pid), loadgen.postgres_cpu(database)
    busy_before = loadgen.machine_busy_seconds()
    process = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 60)
    line = next((ln for ln in process.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {process.stderr.strip() or process.stdout.strip()}")
    raw = json.loads(line[len("BENCH_JSON "):])
    seconds = raw["duration_us"] / 1e6
    server_cpu = loadgen.server_cpu_seconds(args.server_pid) - server_before
    db_cpu = max(0.0, loadgen.postgres_cpu(database) - db_before)
    errors = sum(raw["socket_errors"].values())
    result = {
        "participants": n, "intended_rps": rate, "rps": raw["requests"] / seconds, "connections": connections,
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000, "non2xx": raw["non2xx"], "non2xx_sample": raw["non2xx_sample"].strip(),
        "socket_errors": errors, "server_cpu_percent": 100 * server_cpu / seconds,
        "server_cpu_ms_per_request": 1000 * server_cpu / max(raw["requests"], 1),
        "database_cpu_percent": 100 * db_cpu / seconds,
        "machine_busy_percent": 100 * (loadgen.machine_busy_seconds() - busy_before) / seconds,
    }
    result["pass"] = (result["p99_ms"] <= P99_LIMIT_MS and not result["non2xx"] and not errors
                      and result["rps"] >= 0.9 * rate)
    return result


def run(args) -> int:
    app = _app()
    steps = sorted(int(s) for s in args.steps.split(",") if s.strip())
    client = Client(args.base_url)
    with app.app_context():
        hash_ = _password_hash()
        if not seed.course_ids():
            seed.seed_base(hash_)
        seed.grow_participants(max(max(steps), seed.COHORT), hash_)
        db.session.commit()
        settle_database()
        print(f"soak: {seed.table_counts()}", flush=True)
    client.wait_until_up("/healthz")
    results = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": None, "steps": [],
               "poll_seconds": POLL_SECONDS, "page_seconds": PAGE_SECONDS, "step_seconds": args.seconds,
               "database": "postgresql" if loadgen._postgres_database() else "sqlite"}
    with app.app_context():
        results["machine"] = report.machine()
        people = _people(max(steps))
        _acknowledge(people)
    cookies = Path(args.results) / "soak-cookies.tsv"
    best = 0
    for n in steps:
        started = time.monotonic()
        _sign_in(client, people[:n])
        print(f"soak: {n} participants signed in ({time.monotonic() - started:.0f} s); "
              f"{n / POLL_SECONDS + n / PAGE_SECONDS:.0f} req/s for {args.seconds} s ...", flush=True)
        step = _step(args, people, n, cookies)
        results["steps"].append(step)
        print(f"  {step['rps']:.0f} of {step['intended_rps']:.0f} req/s, p50 {step['p50_ms']:.1f} ms, "
              f"p99 {step['p99_ms']:.1f} ms, max {step['max_ms']:.0f} ms, non-2xx {step['non2xx']}, "
              f"socket errors {step['socket_errors']}, server {step['server_cpu_percent']:.0f} % "
              f"({step['server_cpu_ms_per_request']:.2f} ms/req), db {step['database_cpu_percent']:.0f} %, "
              f"machine {step['machine_busy_percent']:.0f} % -> {'PASS' if step['pass'] else 'MISS'}", flush=True)
        if step["pass"]:
            best = n
        elif len(results["steps"]) > 1 and not results["steps"][-2]["pass"]:
            break  # two misses in a row: the machine, not noise
    results["capacity"] = best
    print(f"\nsoak: largest N with p99 <= {P99_LIMIT_MS} ms and no errors: {best} participants "
          f"(steps {steps}, {args.seconds} s each, {results['database']})")
    out = Path(args.results) / f"soak-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=2))
    cookies.unlink(missing_ok=True)
    print(f"results: {out}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.soak")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--steps", default=os.environ.get("SOAK_STEPS", "1000,2500,5000,10000,15000"))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "90")))
    args = parser.parse_args(argv)
    if not args.base_url.startswith("http://127.0.0.1:"):
        raise SystemExit("the soak only loads 127.0.0.1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

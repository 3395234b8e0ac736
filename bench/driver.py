"""One benchmark run against a gunicorn that bench/run.sh started (and stops).

    python -m bench.driver schema                       create_all whatever `flask db upgrade` left out
    python -m bench.driver run --base-url http://127.0.0.1:PORT --server-pid PID --results bench/results

The run grows one database through three sizes so that every figure comes from the same server:
200 participants (timer poll), 2,000 (the four endpoints side by side, page weight), 20,000 (timer poll
again). The app object here only seeds and reads the database; all measured traffic goes to gunicorn.
"""

import argparse
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy import select, text

from app import create_app
from app.auth.models import User
from app.courses.models import Course, Enrollment
from app.extensions import db
from bench import load as loadgen
from bench import pageweight, report, seed
from bench.client import CSRF_FIELD, Client

SIZES = (seed.COHORT, 2_000, 20_000)
CHEAP_HASH = "pbkdf2:sha256:1000"
COURSE_ID = re.compile(r"<(?:\w+:)?course_id>")


def _app():
    return create_app({"PASSWORD_HASH_METHOD": CHEAP_HASH})


def _password_hash() -> str:
    user = User()
    user.set_password(seed.PASSWORD)
    return user.password_hash


# --- What to measure ----------------------------------------------------------------------------


def discover_paths(app) -> dict:
    """Path templates read from the app's URL map, so renamed routes are followed.

    {course} is the participant's course id; {shown} the timer state their page shows (the poll sends it
    back and gets 204 while nothing changed).
    """
    rules = list(app.url_map.iter_rules())
    by_endpoint = {rule.endpoint: rule for rule in rules}
    timer = next((r for r in rules if "timer" in r.endpoint and "GET" in r.methods
                  and set(r.arguments) == {"course_id"}), None)
    paths = {"healthz": by_endpoint["health.healthz"].rule, "signin": by_endpoint["auth.login"].rule,
             "course": COURSE_ID.sub("{course}", by_endpoint["courses.course"].rule)}
    if timer is not None:
        paths["timer"] = COURSE_ID.sub("{course}", timer.rule) + "?shown={shown}"
        paths["timer_render"] = COURSE_ID.sub("{course}", timer.rule)
        paths["timer_endpoint"] = timer.endpoint
    else:  # the player's timer has not landed: the SENCE box fragment does the same live-session lookup
        paths["timer"] = COURSE_ID.sub("{course}", by_endpoint["sence.controls"].rule)
        paths["timer_endpoint"] = "sence.controls (stand-in: no timer endpoint in the app yet)"
    return paths


def evaluation_paths(app, paths: dict) -> None:
    """Issue 12's two pages, when the app has them: {attempt} is each participant's own attempt (answers.tsv)."""
    if "evaluations.attempt" in app.view_functions and "evaluations.save" in app.view_functions:
        paths["question"] = "{attempt}"
        paths["answer_save"] = "{attempt}"


def start_attempts(app, client: Client, people: list[dict], results: Path) -> dict[str, Path]:
    """Each signed-in participant starts the course's evaluation through the real pages (CSRF on); the files
    hold their question page, and their save URL with two bodies that alternate the chosen option (so every
    save changes the stored answer)."""
    from app.evaluations.models import Evaluation

    with app.app_context():
        evaluations = {e.course_id: (e.id, e.questions[0].id, [o.id for o in e.questions[0].options])
                       for e in db.session.execute(select(Evaluation)).scalars()}
        db.session.remove()
    urls = app.url_map.bind("127.0.0.1")
    question_lines, save_lines = [], []
    for person in people:
        evaluation_id, question_id, options = evaluations[person["course_id"]]
        ids = {"course_id": person["course_id"], "evaluation_id": evaluation_id}
        page = client.get(urls.build("evaluations.show", ids), cookie=person["cookie"])
        match = CSRF_FIELD.search(page.body)
        _require(page.status == 200 and match, f"evaluation page answered {page.status} for {person['email']}")
        if "session" in page.set_cookies:
            person["cookie"] = f"session={page.set_cookies['session']}"
        token = match.group(1) or match.group(2)
        started = client.request("POST", urls.build("evaluations.start", ids), cookie=person["cookie"],
                                 form={"csrf_token": token})
        _require(started.status == 303, f"starting the evaluation answered {started.status} for {person['email']}")
        attempt_id = int(urlsplit(started.headers["Location"]).path.rstrip("/").rsplit("/", 1)[1])
        ids["evaluation_attempt_id"] = attempt_id
        prefix = f"{person['cookie']}\t{person['course_id']}\t{person['shown']}"
        question_lines.append(f"{prefix}\t{urls.build('evaluations.attempt', ids)}?p=1\t")
        for option in options[:2]:
            body = urlencode({"csrf_token": token, "shown": question_id, f"q{question_id}": option})
            save_lines.append(f"{prefix}\t{urls.build('evaluations.save', ids)}\t{body}")
    files = {"question": results / "question.tsv", "answer_save": results / "answers.tsv"}
    files["question"].write_text("\n".join(question_lines) + "\n")
    # the two lines of one participant 200 lines apart: consecutive saves of one person alternate the option
    files["answer_save"].write_text("\n".join(save_lines[0::2] + save_lines[1::2]) + "\n")
    return files


def verify_evaluation(client: Client, files: dict[str, Path]) -> None:
    cookie, _, _, path, _ = files["question"].read_text().splitlines()[0].split("\t")
    page = client.get(path, cookie=cookie)
    _require(page.status == 200 and "Pregunta 1" in page.body, f"{path} answered {page.status}")
    cookie, _, _, path, body = files["answer_save"].read_text().splitlines()[0].split("\t")
    saved = client.request("POST", path, cookie=cookie, form=dict(parse_qsl(body)), hx=True)
    _require(saved.status == 200 and "Respuestas guardadas" in saved.body,
             f"{path} answered {saved.status}: the answer save should be a 200 fragment")


def cohort() -> list[dict]:
    """The signed-in participants, with the timer key their course page shows (when the timer exists)."""
    emails = [seed.participant_email(k) for k in range(seed.COHORT)]
    rows = db.session.execute(
        select(User.id, User.email, User.full_name, Enrollment.course_id, Course.title)
        .join(Enrollment, Enrollment.user_id == User.id).join(Course, Course.id == Enrollment.course_id)
        .where(User.email.in_(emails)).order_by(User.id)
    ).all()
    people = [{"user_id": r.id, "email": r.email, "full_name": r.full_name, "course_id": r.course_id,
               "title": r.title, "shown": ""} for r in rows]
    try:
        from app.courses.timer import timer_state
    except ImportError:
        return people
    for person in people:
        state = timer_state(person["user_id"], person["course_id"])
        person["shown"] = state.key if state else ""
    return people


def acknowledge_notice(people: list[dict]) -> None:
    """The cohort has read the privacy notice (app/privacy), as real participants have after their first sign-in:
    otherwise their course page is a redirect to it."""
    try:
        from app.privacy.service import acknowledge, current_notice
    except ImportError:
        return
    version = current_notice().version
    for person in people:
        acknowledge(db.session.get(User, person["user_id"]), version)


def settle_database() -> None:
    """What autovacuum and the checkpointer would have done on a live server, done before measuring: otherwise on
    PostgreSQL they run during the next measurement, on the same two cores, after a bulk seed.

    SQLite has no autovacuum and Pizarra never runs ANALYZE on it, so none is run here: the planner works as in
    production, without statistics. (Statistics taken while a table is nearly empty go stale as the run fills
    it: bench.profile's ANALYZE of a one-row table made SQLite scan evaluation_attempts and evaluation_answers.)
    Its write-ahead log is checkpointed, as a live server's would be."""
    if db.engine.dialect.name != "postgresql":
        db.session.commit()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))
        connection.execute(text("CHECKPOINT"))


def grow(total: int, password_hash: str) -> dict:
    started = time.monotonic()
    added = seed.grow_participants(total, password_hash)
    db.session.commit()
    settle_database()
    counts = seed.table_counts()
    db.session.remove()
    print(f"seeded {added} participants in {time.monotonic() - started:.1f} s: {counts}", flush=True)
    return counts


# --- Checks before measuring ----------------------------------------------------------------------


def sign_in_cohort(client: Client, people: list[dict], path: Path) -> None:
    lines = []
    for person in people:
        person["cookie"] = client.sign_in(person["email"], seed.PASSWORD)
        lines.append(f"{person['cookie']}\t{person['course_id']}\t{person['shown']}")
    path.write_text("\n".join(lines) + "\n")


def sign_in_cohort_file(people: list[dict], path: Path) -> None:
    """Rewrite cookies.tsv after a page renewed a session cookie."""
    path.write_text("".join(f"{p['cookie']}\t{p['course_id']}\t{p['shown']}\n" for p in people))


def verify(client: Client, people: list[dict], paths: dict) -> dict:
    """A benchmark of redirects or 403s is worthless: every page must answer 200 with the right content."""
    health = client.get(paths["healthz"])
    signin = client.get(paths["signin"])
    _require(health.status == 200 and health.body == "ok", f"/healthz answered {health.status}")
    _require(signin.status == 200 and 'name="password"' in signin.body, f"sign-in page answered {signin.status}")
    notes = {"set_cookie_on": []}
    for person in (people[0], people[len(people) // 2], people[-1]):
        course_path = paths["course"].format(course=person["course_id"])
        page = client.get(course_path, cookie=person["cookie"])
        _require(page.status == 200, f"{course_path} answered {page.status} for {person['email']}")
        _require(person["full_name"] in page.body and person["title"] in page.body,
                 f"{course_path} did not show {person['full_name']}'s course")
        notes["open_session_shown"] = "Sesión SENCE abierta" in page.body
        replies = {"course": page}
        for name in ("timer", "timer_render"):
            if name in paths:
                replies[name] = _check_fragment(client, person, paths[name], steady=name == "timer"
                                                and "{shown}" in paths[name])
        notes["set_cookie_on"] += sorted({name for name, reply in replies.items() if reply.set_cookies})
        notes["bytes"] = {name: len(reply.body.encode()) for name, reply in replies.items()}
    return notes


def _check_fragment(client: Client, person: dict, template: str, steady: bool):
    path = template.format(course=person["course_id"], shown=person["shown"])
    reply = client.get(path, cookie=person["cookie"], hx=True)
    if steady:
        _require(reply.status == 204 and not reply.body,
                 f"{path} answered {reply.status} for {person['email']}: the unchanged poll should be 204")
        return reply
    _require(reply.status == 200, f"{path} answered {reply.status} for {person['email']}")
    _require("<html" not in reply.body and "Ingresar a Pizarra" not in reply.body and reply.body.strip(),
             f"{path} did not answer a fragment for a signed-in participant")
    return reply


def _require(condition, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench: refusing to measure: {message}")


# --- The run ------------------------------------------------------------------------------------


class Runner:
    """Measures paths against the running server with one load profile and one cookies file."""

    def __init__(self, args, paths: dict):
        self.args, self.paths = args, paths
        self.load = loadgen.Load(seconds=args.seconds, warmup=args.warmup)
        # the endpoints side by side: the same seconds each, in rounds (their warmup is the rounds before)
        self.round_load = loadgen.Load(seconds=max(1, args.seconds // args.rounds), warmup=1)
        self.cookies_file = Path(args.results) / "cookies.tsv"
        self.files: dict[str, Path] = {}  # per-endpoint entry files (the evaluation's pages)

    def measure(self, name: str, label: str, load: loadgen.Load | None = None) -> dict:
        path, load = self.paths[name], load or self.load
        signed_in = name not in ("healthz", "signin")
        print(f"measuring {label}: GET {path} for {load.seconds} s ...", flush=True)
        cookies = self.files.get(name, self.cookies_file) if signed_in else None
        result = loadgen.measure(self.args.base_url, path, load, cookies, hx=self._hx(name),
                                 server_pid=self.args.server_pid, method=report.METHODS.get(name, "GET"))
        print(f"  {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
              f"non-2xx {result['non2xx']}", flush=True)
        return result

    @staticmethod
    def _hx(name: str) -> bool:
        return name.startswith("timer") or name == "answer_save"

    def prime(self) -> None:
        print("warming every endpoint up ...", flush=True)
        loadgen.prime(self.args.base_url, [
            (path, None if name in ("healthz", "signin") else self.files.get(name, self.cookies_file),
             self._hx(name), report.METHODS.get(name, "GET"))
            for name, path in self.paths.items() if name in report.ORDER], seconds=max(self.load.warmup, 1))

    def side_by_side(self, names: list[str]) -> dict:
        """Every endpoint in each of --rounds rounds, /healthz first: each page is compared with the /healthz of
        its own round (report.combine_rounds), since this machine's speed drifts within minutes."""
        rounds = self.args.rounds
        measured = [{name: self.measure(name, f"{report.LABELS[name]}, round {number}/{rounds}", self.round_load)
                     for name in names} for number in range(1, rounds + 1)]
        return report.combine_rounds(measured)

    def timers(self, participants: str) -> dict:
        """The timer polls, after a /healthz of their own: the two sizes are measured minutes apart, and the
        /healthz beside each shows how much of a difference is the machine's (report.scale_differences)."""
        return {name: self.measure(name, f"{report.LABELS[name]}, {participants} participants")
                for name in ("healthz", *report.TIMERS) if name in self.paths}


def prepare(app, results: dict, password_hash: str) -> tuple[dict, list[dict]]:
    with app.app_context():
        results["machine"] = report.machine()
        if not seed.course_ids():
            seed.seed_base(password_hash)
        results["seed"]["200"] = grow(SIZES[0], password_hash)
        paths, people = discover_paths(app), cohort()
        acknowledge_notice(people)
        evaluation_paths(app, paths)
        db.session.remove()
    return paths, people


def run(args) -> int:
    app = _app()
    client = Client(args.base_url)
    Path(args.results).mkdir(parents=True, exist_ok=True)
    with app.app_context():
        password_hash = _password_hash()
    results = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "server": "gunicorn, 2 sync workers, PIZARRA_ENV=production", "seed": {}, "notes": []}
    paths, people = prepare(app, results, password_hash)
    runner = Runner(args, paths)
    results.update(paths=paths, load={**vars(runner.load), "rounds": args.rounds,
                                      "seconds_per_round": runner.round_load.seconds})
    if "stand-in" in paths["timer_endpoint"]:
        results["notes"].append(f"timer poll measured on {paths['timer_endpoint']}")
    client.wait_until_up(paths["healthz"])
    sign_in_cohort(client, people, runner.cookies_file)
    if "question" in paths:
        runner.files = start_attempts(app, client, people, Path(args.results))
        sign_in_cohort_file(people, runner.cookies_file)
        verify_evaluation(client, runner.files)
    results["checks"] = verify(client, people, paths)
    runner.prime()

    scale = {"runs": {"200": runner.timers("200")}}
    with app.app_context():
        results["seed"]["2000"] = grow(SIZES[1], password_hash)
    endpoints = runner.side_by_side([name for name in report.ORDER if name in paths])
    print("cold page loads in Chromium ...", flush=True)
    sample = people[0]
    weight = pageweight.measure_pages(args.base_url, [
        ("course", paths["course"].format(course=sample["course_id"]), sample["cookie"]),
        ("sign-in", paths["signin"], ""),
    ])
    with app.app_context():
        results["seed"]["20000"] = grow(SIZES[2], password_hash)
    scale["runs"]["20000"] = runner.timers("20,000")
    scale.update(report.scale_differences(scale["runs"]["200"], scale["runs"]["20000"]))
    results.update(endpoints=endpoints, ratios=report.ratios(endpoints), page_weight=weight, scale=scale)
    results["targets"] = report.targets(endpoints, weight, scale)
    report.print_all(results, stand_in="stand-in" in paths["timer_endpoint"])
    written = report.write(results, Path(args.results))
    print(f"\nresults: {written} (and latest.json)")
    return 0


def schema() -> int:
    app = _app()
    with app.app_context():
        created = seed.ensure_schema()
    if created:
        print(f"bench: `flask db upgrade` left {len(created)} tables missing; created them with create_all: "
              + ", ".join(created))
    else:
        print("bench: schema complete from the migrations")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.driver")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("schema")
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--base-url", required=True)
    run_parser.add_argument("--server-pid", type=int, default=None)
    run_parser.add_argument("--results", default="bench/results")
    run_parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "15")))
    run_parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", "3")))
    run_parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")),
                            help="the endpoints side by side are measured in this many rounds of --seconds/rounds")
    args = parser.parse_args(argv)
    return schema() if args.command == "schema" else run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make cluster-test`: two app servers behind HAProxy on one PostgreSQL and one Redis, checked end to end.

bench/cluster.sh starts the processes and cleans up; this module does the steps and the assertions:

    python -m bench.cluster seed --registry FILE          demo data + work due for the sweep; the simulator's registry
    python -m bench.cluster haproxy --port P --a PA --b PB  the load balancer's config (it logs to its stdout)
    python -m bench.cluster wait PORT[/PATH]...           until each server answers (60 s at most)
    python -m bench.cluster sweep-at READY GO             `flask --app wsgi sweep`, once the file GO exists
    python -m bench.cluster run --lb P --a PA --b PB --claveunica URL --logs DIR --results DIR --smtp-dir DIR \
        --redis URL                                         the steps and checks, then a summary

The proof comes from what the servers wrote: the gunicorn access log of each instance (which server got which
request) and the database (attempts, sessions, certificates, outbox), plus what the SMTP server received.
"""

import argparse
import json
import mailbox
import random
import re
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from bench.client import CSRF_FIELD, Client
from bench.seed import pdf_bytes, valid_run
from tests.browser.sence_steps import complete_sence_round

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PIN_HEADER = "X-Cluster-Server"  # test only: the generated config routes it to A or B (never in production)
DUE_PEOPLE = 4  # finished-course participants whose certificate and DJ mail are due, each with a reminder due
EXPIRED_PEOPLE = 2  # open sessions past their limit: the sweep marks them expired, no reminder
SIGN_IN_LIMIT = 10  # app/auth/views.py: failed sign-ins per account and IP in 15 minutes


class Failed(AssertionError):
    """A check of the cluster test failed; the message says what was expected."""


def check(condition, message: str) -> None:
    if not condition:
        raise Failed(message)


def _app():
    return create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})


# --- The load balancer's configuration -------------------------------------------------------------


def haproxy_config(port: int, a: int, b: int) -> str:
    """HAProxy in front of A and B: SENCE's attempt start/close pinned to A and SENCE's answers to B, so each answer
    lands on the other server than the one that created its attempt; the rest round-robin. PIN_HEADER lets the
    test send a request to A or B on purpose (rate limits, uploads)."""
    return f"""global
    log stdout format raw local0
    maxconn 200

defaults
    mode http
    log global
    option httplog
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout check 5s

frontend pizarra
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    acl sence_start method POST
    acl sence_start_path path_reg ^/sence/cursos/[0-9]+/(iniciar|cerrar)$
    acl sence_answer path /s/r /s/e
    acl pin_a req.hdr({PIN_HEADER}) -m str a
    acl pin_b req.hdr({PIN_HEADER}) -m str b
    use_backend server_a if sence_start sence_start_path
    use_backend server_b if sence_answer
    use_backend server_a if pin_a
    use_backend server_b if pin_b
    default_backend both

backend both
    balance roundrobin
    option httpchk GET /healthz
    server a 127.0.0.1:{a} check inter 2s
    server b 127.0.0.1:{b} check inter 2s

backend server_a
    server a 127.0.0.1:{a}

backend server_b
    server b 127.0.0.1:{b}
"""


# --- Seeding ---------------------------------------------------------------------------------------


def _person(k: int) -> dict:
    return {"role": "participant", "full_name": f"Participante Clúster {k}", "email": f"cluster{k}@demo.cl",
            "run": valid_run(30_000_000 + k), "password": "cluster-clave-1"}


def seed(registry: Path) -> None:
    """The demo (its finished course's close-out is due), plus participants whose certificate, DJ mail and SENCE
    reminder are due and two open sessions past their limit; writes what the strict simulator must know."""
    from app.admin import service as admin_service
    from app.certificates.demo import FINISHED_COURSE, answered_session, counted_session
    from app.courses.models import Course
    from app.demo import seed_demo
    from app.privacy.service import acknowledge, current_notice
    from app.sence import demo as sence_demo
    from app.timeutil import utcnow

    app = _app()
    with app.app_context():
        course = seed_demo()
        finished = db.session.execute(select(Course).where(Course.title == FINISHED_COURSE)).scalar_one()
        now = utcnow().replace(microsecond=0)
        limit = course.sence.session_limit_minutes
        for k in range(DUE_PEOPLE + EXPIRED_PEOPLE):
            user = admin_service.create_user(**_person(k))
            admin_service.enroll(course, user)
            if k < DUE_PEOPLE:
                admin_service.enroll(finished, user)
                counted_session(finished, user)
                answered_session(course, user, now - timedelta(minutes=limit - 10))  # in its last 15 minutes
            else:
                answered_session(course, user, now - timedelta(minutes=limit + 20))  # open past its limit
        db.session.commit()
        instructor = admin_service.user_by_email("instructor@demo.cl")
        acknowledge(instructor, current_notice().version)  # Ana reads the notice in the browser
        runs = [enrollment.user.run for enrollment in course.enrollments]
        registry.write_text(json.dumps({
            "otecs": {sence_demo.OTEC_RUT: {"tokens": {sence_demo.DEMO_TOKEN: {"expires": "2099-01-01"}}}},
            "courses": {sence_demo.CODIGO_CURSO: {"runs": runs, "cod_sence": sence_demo.COD_SENCE, "linea": 3,
                                                 "rut_otec": sence_demo.OTEC_RUT, "elearning": True,
                                                 "start": "2020-01-01", "end": "2099-12-31"}},
        }, indent=1))
        print(f"cluster: seeded the demo, {DUE_PEOPLE} participants with close-out and reminders due, "
              f"{EXPIRED_PEOPLE} sessions past their limit")


# --- The sweep, started at one moment on both "servers" -------------------------------------------


def sweep_at(ready: Path, go: Path, seconds: float = 60) -> int:
    """Import the app first (the slow part), say so in `ready`, wait for `go`, then run flask's own CLI: two of
    these released by one `go` run their sweeps at the same moment."""
    from flask.cli import cli

    import wsgi  # noqa: F401 (the app, created before the gate)

    ready.touch()
    deadline = time.monotonic() + seconds
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"no {go} within {seconds:.0f} s")
        time.sleep(0.002)
    started = time.time()
    try:
        cli.main(args=["--app", "wsgi", "sweep"], prog_name="flask", standalone_mode=False)
    finally:
        print(json.dumps({"started": started, "ended": time.time()}), file=sys.stderr, flush=True)
    return 0


# --- Access logs -----------------------------------------------------------------------------------

ACCESS_FORMAT = '%(h)s "%({x-forwarded-for}i)s" "%(r)s" %(s)s %(B)s "%(a)s"'  # gunicorn --access-logformat
LOG_LINE = re.compile(r'^(?P<peer>\S+) "(?P<xff>[^"]*)" "(?P<method>\S+) (?P<target>\S+) [^"]*" (?P<status>\d+) '
                      r'\S+ "(?P<agent>[^"]*)"')


@dataclass(frozen=True)
class Hit:
    server: str
    client: str  # the participant's address, as the proxy forwarded it
    browser: bool  # Chromium, not bench/client.py
    method: str
    path: str
    status: int


def read_log(server: str, path: Path) -> list[Hit]:
    hits = []
    for line in path.read_text().splitlines():
        match = LOG_LINE.match(line)
        if match:
            hits.append(Hit(server, match["xff"].split(",")[-1].strip(), "Chrome" in match["agent"], match["method"],
                            match["target"].split("?")[0], int(match["status"])))
    return hits


class Logs:
    """Both servers' access logs, read afresh on each question (gunicorn writes each line at once)."""

    def __init__(self, directory: Path):
        self.files = {"A": directory / "access-a.log", "B": directory / "access-b.log"}

    def hits(self) -> list[Hit]:
        return [hit for server, path in self.files.items() for hit in read_log(server, path)]

    def where(self, method: str, path: str, client: str = "") -> list[Hit]:
        return [h for h in self.hits() if h.method == method and re.fullmatch(path, h.path)
                and (not client or h.client == client)]

    def count(self, method: str, path: str, client: str = "") -> Counter:
        return Counter(h.server for h in self.where(method, path, client))


def wait_for_log(logs: Logs, method: str, path: str, expected: Counter, client: str = "",
                 seconds: float = 5) -> Counter:
    """Access log lines follow the response by a moment: wait for them before judging."""
    deadline = time.monotonic() + seconds
    while (seen := logs.count(method, path, client)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return seen


# --- The participant in Chromium -------------------------------------------------------------------


def _strip_markdown(line: str) -> str:
    return re.sub(r"[*_`>#]", "", line).strip()


def participant_in_browser(app, lb_url: str, claveunica_url: str, results: Path) -> dict:
    """Ana signs in through the balancer, reads the privacy notice, opens SENCE's session (popup, simulator,
    ClaveÚnica), sees the lesson and the timer, closes the session the same way and signs out."""
    from playwright.sync_api import sync_playwright

    from app.auth.models import User
    from app.courses.models import Course
    from app.demo import DEMO_COURSE, DEMO_PASSWORD
    with app.app_context():
        course = db.session.execute(select(Course).where(Course.title == DEMO_COURSE)).scalar_one()
        ana = db.session.execute(select(User).where(User.email == "ana@demo.cl")).scalar_one()
        course_id, user_id, run = course.id, ana.id, ana.run
        lesson_line = _strip_markdown(course.lessons[0].body.splitlines()[0])
        db.session.remove()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(locale="es-CL", timezone_id="America/Santiago",
                                      viewport={"width": 1280, "height": 800})
        context.set_default_timeout(20_000)
        page = context.new_page()
        try:
            page.goto(f"{lb_url}/ingresar")
            page.get_by_label("RUN o correo").fill("ana@demo.cl")
            page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Ingresar").click()
            page.wait_for_url(re.compile(re.escape(lb_url) + r"/(privacidad.*)?$"))
            notice = "/privacidad" in page.url
            if notice:
                page.get_by_role("button", name="Leí el aviso de privacidad").click()
                page.wait_for_url(f"{lb_url}/")
            page.goto(f"{lb_url}/cursos/{course_id}")
            page.get_by_text("Debes iniciar sesión SENCE para ver el contenido").wait_for()
            check(not page.locator("#lesson").get_by_text(lesson_line).count(),
                  "the lesson was visible before the SENCE session")

            _sence_round(page, "Iniciar sesión SENCE", claveunica_url, run)
            page.locator(".sence-box").get_by_text("Sesión SENCE activa").wait_for()
            page.locator("#lesson").get_by_text(lesson_line).wait_for()
            check(page.locator("#sence-timer").is_visible(), "no SENCE timer on the course page with the session open")
            screenshot = results / "cluster-session-open.png"
            page.screenshot(path=str(screenshot), full_page=True)
            open_state = sence_state(app, user_id, course_id)

            _sence_round(page, "Cerrar sesión SENCE", claveunica_url, run)
            page.locator("#sence-controls").get_by_role("button", name="Iniciar sesión SENCE").wait_for()
            page.get_by_role("status").filter(has_text="Sesión SENCE cerrada correctamente").wait_for()
            page.get_by_role("button", name="Salir").click()
            page.wait_for_url(re.compile(re.escape(lb_url) + r"/ingresar"))
        except Exception:
            page.screenshot(path=str(results / "cluster-failure.png"), full_page=True)
            raise
        finally:
            context.close()
            browser.close()
    return {"course_id": course_id, "user_id": user_id, "notice": notice, "screenshot": screenshot,
            "open_state": open_state}


def _sence_round(page, button: str, claveunica_url: str, run: str) -> None:
    """The popup to SENCE, ClaveÚnica's page in it (the browser tests' own steps), until SENCE's answer closes it."""
    with page.expect_popup() as opened:
        page.locator("#sence-controls").get_by_role("button", name=button).click()
    popup = opened.value
    complete_sence_round(popup, claveunica_url, run)
    popup.wait_for_event("close")


def sence_state(app, user_id: int, course_id: int) -> dict:
    from app.sence.models import Attempt, SenceSession

    with app.app_context():
        attempts = db.session.execute(
            select(Attempt.kind, Attempt.status, Attempt.via_popup).where(
                Attempt.user_id == user_id, Attempt.course_id == course_id).order_by(Attempt.id)).all()
        sessions = db.session.execute(select(SenceSession.status).where(
            SenceSession.user_id == user_id, SenceSession.course_id == course_id)).scalars().all()
        db.session.remove()
    return {"attempts": [tuple(a) for a in attempts], "sessions": list(sessions)}


def check_sence_trip(app, logs: Logs, trip: dict) -> dict:
    """The attempts were created on A and SENCE's answers to them arrived at B; the database agrees."""
    course = trip["course_id"]
    starts = wait_for_log(logs, "POST", rf"/sence/cursos/{course}/iniciar", Counter(A=1))
    closes = wait_for_log(logs, "POST", rf"/sence/cursos/{course}/cerrar", Counter(A=1))
    answers = wait_for_log(logs, "POST", r"/s/r", Counter(B=2))
    check(starts == Counter(A=1), f"the attempt start should be one request on A, the logs say {dict(starts)}")
    check(closes == Counter(A=1), f"the close should be one request on A, the logs say {dict(closes)}")
    check(answers == Counter(B=2), f"SENCE's two answers (/s/r) should both be on B, the logs say {dict(answers)}")
    check(not logs.where("POST", r"/s/e"), "SENCE answered on its error URL (/s/e)")
    check(all(h.status == 200 for h in logs.where("POST", r"/s/r")), "an answer to /s/r was not 200")
    check(trip["open_state"] == {"attempts": [("login", "succeeded", True)], "sessions": ["open"]},
          f"with the session open the database should hold one answered login and one open session: "
          f"{trip['open_state']}")
    final = sence_state(app, trip["user_id"], trip["course_id"])
    check(final == {"attempts": [("login", "succeeded", True), ("logout", "succeeded", True)],
                    "sessions": ["closed"]},
          f"after the close the database should hold the login and the logout answered, the session closed: {final}")
    signed_in = Counter(h.server for h in logs.hits() if h.browser and h.status == 200
                        and re.match(rf"/(cursos|sence/cursos)/{course}(/|$)", h.path))
    check(signed_in["A"] and signed_in["B"],
          f"the participant's signed-in pages should be served by both servers (round-robin): {dict(signed_in)}")
    browser = Counter(h.server for h in logs.hits() if h.browser)
    return {"starts": starts, "answers": answers, "signed_in": signed_in, "browser": browser}


# --- Shared rate limits ----------------------------------------------------------------------------


def check_shared_rate_limit(app, lb: int, logs: Logs, redis_url: str) -> dict:
    """Failed sign-ins for one account from one client, alternating A and B, are refused after 10 in all."""
    from redis import Redis

    client_ip = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    page = Client(f"http://127.0.0.1:{lb}", source=client_ip, headers={PIN_HEADER: "a"}).get("/ingresar")
    match = CSRF_FIELD.search(page.body)
    check(page.status == 200 and match and "session" in page.set_cookies, "the sign-in page offered no form")
    cookie, token = f"session={page.set_cookies['session']}", match.group(1) or match.group(2)
    statuses = []
    for attempt in range(SIGN_IN_LIMIT + 2):
        server = "ab"[attempt % 2]
        client = Client(f"http://127.0.0.1:{lb}", source=client_ip, headers={PIN_HEADER: server})
        reply = client.request("POST", "/ingresar", cookie=cookie,
                               form={"csrf_token": token, "identifier": "benito@demo.cl", "password": "no-es-esta"})
        statuses.append(reply.status)
    expected = [422] * SIGN_IN_LIMIT + [429] * 2
    check(statuses == expected, f"failed sign-ins alternating A/B answered {statuses}, expected {expected} "
                                "(10 failures in all, not 10 per server)")
    wait_for_log(logs, "POST", "/ingresar", Counter(A=6, B=6), client_ip)
    hits = logs.where("POST", "/ingresar", client_ip)
    per_server = {s: [h.status for h in hits if h.server == s] for s in "AB"}
    check(per_server == {"A": [422] * 5 + [429], "B": [422] * 5 + [429]},
          f"the access logs should show 5 failures and 1 refusal on each server for {client_ip}: {per_server}")
    redis = Redis.from_url(redis_url)
    keys = list(redis.scan_iter(match=f"*{client_ip}*"))
    check(keys, f"no rate-limit counter for {client_ip} in Redis ({redis_url})")
    redis.delete(*keys)  # ours alone: the address is this run's
    return {"client": client_ip, "statuses": statuses, "per_server": per_server, "redis_keys": len(keys)}


# --- Shared uploads --------------------------------------------------------------------------------


def check_shared_uploads(app, lb: int) -> dict:
    """A material uploaded through A is downloaded, byte for byte, through B."""
    from app.courses.models import Course, Material
    from app.demo import DEMO_COURSE, DEMO_PASSWORD

    with app.app_context():
        course = db.session.execute(select(Course).where(Course.title == DEMO_COURSE)).scalar_one()
        course_id, lesson_id = course.id, course.lessons[-1].id
        db.session.remove()
    on_a = Client(f"http://127.0.0.1:{lb}", headers={PIN_HEADER: "a"})
    on_b = Client(f"http://127.0.0.1:{lb}", headers={PIN_HEADER: "b"})
    cookie = on_a.sign_in("instructor@demo.cl", DEMO_PASSWORD)
    edit = on_a.get(f"/cursos/{course_id}/lecciones/{lesson_id}/editar", cookie=cookie)
    match = CSRF_FIELD.search(edit.body)
    check(edit.status == 200 and match, f"the lesson editor answered {edit.status} on A")
    title = f"Guía clúster {random.randint(0, 10**9)}"
    body = pdf_bytes(title)
    upload = on_a.request("POST", f"/cursos/{course_id}/lecciones/{lesson_id}/material", cookie=cookie,
                          form={"csrf_token": match.group(1) or match.group(2), "title": title},
                          files={"file": ("guia-cluster.pdf", body, "application/pdf")})
    check(upload.status == 303, f"the upload through A answered {upload.status}")
    with app.app_context():
        material = db.session.execute(select(Material).where(Material.lesson_id == lesson_id)
                                      .order_by(Material.id.desc()).limit(1)).scalar_one()
        material_id, size = material.id, material.size
        db.session.remove()
    download = on_b.get(f"/cursos/{course_id}/material/{material_id}", cookie=cookie)
    check(download.status == 200 and download.data == body,
          f"the download through B answered {download.status} with {len(download.data)} bytes, "
          f"expected the {len(body)} bytes uploaded through A")
    check(size == len(body), "the stored size differs from the upload")
    return {"course_id": course_id, "lesson_id": lesson_id, "material_id": material_id, "bytes": len(body)}


def check_upload_logs(logs: Logs, upload: dict) -> None:
    c, lesson, material = upload["course_id"], upload["lesson_id"], upload["material_id"]
    posted = wait_for_log(logs, "POST", rf"/cursos/{c}/lecciones/{lesson}/material", Counter(A=1))
    fetched = wait_for_log(logs, "GET", rf"/cursos/{c}/material/{material}", Counter(B=1))
    check(posted == Counter(A=1), f"the upload should be on A, the logs say {dict(posted)}")
    check(fetched == Counter(B=1), f"the download should be on B, the logs say {dict(fetched)}")


# --- Concurrent sweeps -----------------------------------------------------------------------------


def run_sweeps(logs_dir: Path, seconds: float = 120) -> list[dict]:
    """Two `flask sweep` processes (one per server), released together once both have imported the app."""
    go = logs_dir / "sweep-go"
    processes = {}
    for server in "ab":
        ready = logs_dir / f"sweep-{server}-ready"
        out = open(logs_dir / f"sweep-{server}.log", "w")  # noqa: SIM115 (closed below)
        command = [sys.executable, "-m", "bench.cluster", "sweep-at", str(ready), str(go)]
        processes[server] = (subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT), out, ready)
    deadline = time.monotonic() + seconds
    while not all(ready.exists() for _, _, ready in processes.values()):
        check(time.monotonic() < deadline and all(p.poll() is None for p, _, _ in processes.values()),
              "a sweep process did not get ready (see bench/results/cluster/sweep-*.log)")
        time.sleep(0.01)
    go.touch()
    timings = []
    for server, (process, out, _) in processes.items():
        code = process.wait(timeout=seconds)
        out.close()
        lines = (logs_dir / f"sweep-{server}.log").read_text().strip().splitlines()
        check(code == 0, f"flask sweep on {server.upper()} exited {code}:\n" + "\n".join(lines))
        done = [line for line in lines if line.startswith("Barrido listo")]
        timings.append({**json.loads(lines[-1]), "server": server.upper(), "said": done[0] if done else ""})
    first, second = timings
    check(max(first["started"], second["started"]) < min(first["ended"], second["ended"]),
          f"the two sweeps did not overlap: {timings}")
    return timings


def check_sweep_results(app, smtp_dir: Path) -> dict:
    """Each due thing done once: one certificate per approved participant, one DJ mail and one reminder each,
    every outbox message sent once and received once by the SMTP server, the stale sessions expired."""
    from app.certificates.demo import FINISHED_COURSE
    from app.certificates.models import Certificate
    from app.courses.models import Course
    from app.notify.models import OutboxMessage
    from app.sence.models import SenceSession

    with app.app_context():
        finished = db.session.execute(select(Course).where(Course.title == FINISHED_COURSE)).scalar_one()
        certificates = db.session.execute(select(Certificate.user_id).where(Certificate.course_id == finished.id)
                                          ).scalars().all()
        outbox = db.session.execute(select(OutboxMessage)).scalars().all()
        by_kind = Counter(m.kind for m in outbox)
        closeout = Counter(m.user_id for m in outbox if m.kind == "closeout")
        reminders = Counter(m.context.get("session_id") for m in outbox if m.kind == "reminder")
        unsent = [(m.id, m.kind, m.status, m.attempts) for m in outbox if m.status != "sent" or m.attempts != 1]
        expired = db.session.execute(select(func.count()).select_from(SenceSession)
                                     .where(SenceSession.status == "expired")).scalar_one()
        reminded = db.session.execute(select(func.count()).select_from(SenceSession)
                                      .where(SenceSession.reminder_sent_at.is_not(None))).scalar_one()
        db.session.remove()
    check(len(certificates) == DUE_PEOPLE + 1 and len(set(certificates)) == len(certificates),
          f"expected one certificate for each of {DUE_PEOPLE + 1} approved participants, got user ids {certificates}")
    check(len(closeout) == DUE_PEOPLE + 1 and set(closeout.values()) == {1},
          f"expected one DJ mail per qualifying participant ({DUE_PEOPLE + 1}), got {dict(closeout)}")
    check(len(reminders) == DUE_PEOPLE and set(reminders.values()) == {1} and reminded == DUE_PEOPLE,
          f"expected one reminder for each of {DUE_PEOPLE} sessions, got {dict(reminders)} ({reminded} stamped)")
    check(expired == EXPIRED_PEOPLE, f"expected {EXPIRED_PEOPLE} sessions expired by the sweep, got {expired}")
    check(not unsent, f"outbox messages not sent exactly once: {unsent}")
    received = Counter((", ".join(sorted(m.get_all("To", []))), str(m["Subject"])) for m in mailbox.Maildir(smtp_dir))
    check(sum(received.values()) == len(outbox) and set(received.values()) == {1},
          f"the SMTP server received {sum(received.values())} messages for {len(outbox)} outbox rows: "
          f"{[k for k, n in received.items() if n > 1] or dict(received)}")
    return {"certificates": len(certificates), "outbox": dict(by_kind), "received": sum(received.values()),
            "expired": expired}


# --- The run ---------------------------------------------------------------------------------------

def wait_up(port: int, path: str = "/healthz", seconds: float = 60) -> None:
    """`path` "-": any HTTP answer will do (the simulator's ClaveÚnica has no page of its own to ask for)."""
    Client(f"http://127.0.0.1:{port}").wait_until_up("/" if path == "-" else path, seconds, any_answer=path == "-")


def run(args) -> int:
    started = time.monotonic()
    logs_dir, results = Path(args.logs), Path(args.results)
    app = _app()
    wait_up(args.lb)
    logs = Logs(logs_dir)
    print("cluster: the participant in Chromium through the balancer", flush=True)
    trip = participant_in_browser(app, f"http://localhost:{args.lb}", args.claveunica, results)
    sence = check_sence_trip(app, logs, trip)
    print("cluster: failed sign-ins alternating A and B", flush=True)
    limits = check_shared_rate_limit(app, args.lb, logs, args.redis)
    print("cluster: upload through A, download through B", flush=True)
    upload = check_shared_uploads(app, args.lb)
    check_upload_logs(logs, upload)
    print("cluster: flask sweep on A and B at the same moment", flush=True)
    timings = run_sweeps(logs_dir)
    sweep = check_sweep_results(app, Path(args.smtp_dir))
    print_summary(logs, trip, sence, limits, upload, timings, sweep, time.monotonic() - started)
    return 0


def print_summary(logs, trip, sence, limits, upload, timings, sweep, seconds: float) -> None:
    totals = Counter(h.server for h in logs.hits() if h.path != "/healthz")  # not HAProxy's health checks
    overlap = min(t["ended"] for t in timings) - max(t["started"] for t in timings)
    print(f"""
== cluster test: PASS ({seconds:.0f} s of checks)
- SENCE: attempt start and close on A ({dict(sence['starts'])} start), both SENCE answers (/s/r) on B
  ({dict(sence['answers'])}); database: login and logout answered, session opened then closed
  (privacy notice {'accepted' if trip['notice'] else 'not shown'}; screenshot {trip['screenshot']})
- the participant's other requests went round-robin: Chromium's requests {dict(sence['browser'])}, of which
  signed-in course/SENCE pages (200) {dict(sence['signed_in'])}: one session cookie valid on both
- rate limit shared through Redis, per client address as HAProxy forwarded it (PROXY_COUNT=1): from
  {limits['client']} answers {limits['statuses']}; per server
  {limits['per_server']} (refused after 10 in all, not 10 each)
- uploads shared: material {upload['material_id']} ({upload['bytes']} bytes) uploaded through A, identical through B
- sweeps on A and B released together, overlapping {overlap:.2f} s: {sweep['certificates']} certificates,
  outbox {sweep['outbox']} each sent once, {sweep['received']} messages at the SMTP server, {sweep['expired']}
  sessions expired; no duplicates
  A said: {timings[0]['said']}
  B said: {timings[1]['said']}
- requests in the access logs (health checks aside): {dict(totals)}""")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("seed")
    p.add_argument("--registry", required=True)
    p = sub.add_parser("haproxy")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--a", type=int, required=True)
    p.add_argument("--b", type=int, required=True)
    p = sub.add_parser("wait")
    p.add_argument("ports", nargs="+", help="PORT (/healthz), PORT/PATH, or PORT/- (any HTTP answer)")
    p = sub.add_parser("sweep-at")
    p.add_argument("ready", type=Path)
    p.add_argument("go", type=Path)
    p = sub.add_parser("run")
    for name in ("lb", "a", "b"):
        p.add_argument(f"--{name}", type=int, required=True)
    for name in ("claveunica", "logs", "results", "smtp-dir", "redis"):
        p.add_argument(f"--{name}", required=True)
    args = parser.parse_args(argv)
    if args.command == "seed":
        seed(Path(args.registry))
        return 0
    if args.command == "haproxy":
        print(haproxy_config(args.port, args.a, args.b), end="")
        return 0
    if args.command == "wait":
        for spec in args.ports:
            port, slash, path = spec.partition("/")
            wait_up(int(port), "/healthz" if not slash else "-" if path == "-" else "/" + path)
        return 0
    if args.command == "sweep-at":
        return sweep_at(args.ready, args.go)
    try:
        return run(args)
    except Failed as err:
        print(f"\n== cluster test: FAIL: {err}", file=sys.stderr)
    except Exception as err:  # a page that never came, a server that refused: the same verdict, with its trace
        traceback.print_exc()
        print(f"\n== cluster test: FAIL: {type(err).__name__}: {err}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A fast bulk seeder for the benchmark: an OTEC, 20 courses with SENCE settings, and N participants.

Participant k (0, 1, 2 ...) is enrolled in course k mod 20, has two closed SENCE sessions from earlier days
and, unless k >= 200 and k mod 10 == 9, an open session that started in the last hour (so ~90 % of the
participants are "in class"). The first 200 are the signed-in cohort that the load generator rotates
through, and every one of them has an open session. Growing the database (200 -> 2,000 -> 20,000) only
appends rows, so cookies taken earlier stay valid. When the player's models exist, each course has 8
lessons with a PDF each, and participant k has completed k mod 8 lessons and last opened the next one.

Rows go in with Core bulk inserts and one shared, cheap password hash (the app's own hash method for
the config it is given), so 20,000 participants take seconds, not minutes.
"""

import random
import secrets
from datetime import timedelta
from importlib import import_module

from sqlalchemy import func, insert, inspect, select, update
from stdnum.cl import rut as cl_rut

from app.auth.models import User
from app.courses.models import Course, Enrollment, course_instructors
from app.extensions import db
from app.sence import tokens
from app.sence.models import Attempt, CourseSence, Otec, SenceSession, SenceToken
from app.timeutil import today_in_chile, utcnow

PASSWORD = "bench-clave-1"  # noqa: S105 (benchmark accounts on a throw-away database)
EMAIL_DOMAIN = "bench.cl"
COHORT = 200
COURSES = 20
BATCH = 1000
SESSION_MINUTES = 180
OTEC_RUT = "76543210-3"
TOKEN = "8FCF0D5A-1B2C-4D3E-9F40-A1B2C3D44F8F"  # noqa: S105 (made up; the simulator accepts it)
TITLES = ("Excel intermedio", "Prevención de riesgos", "Atención al cliente", "Liderazgo de equipos",
          "Contabilidad básica", "Primeros auxilios", "Inglés para el trabajo", "Manejo de bodega")
FIRST = ("Ana", "Benito", "Carla", "Diego", "Elena", "Felipe", "Gabriela", "Hugo", "Isidora", "Joaquín")
LAST = ("Pérez", "Soto", "González", "Muñoz", "Rojas", "Díaz", "Contreras", "Silva", "Morales", "Araya")
LESSONS = 8
LESSON_BODY = """## {title}

En esta lección revisamos los conceptos clave con ejemplos de la práctica diaria de una empresa chilena.

1. Lee el resumen y descarga el material de apoyo.
2. Revisa el ejemplo paso a paso.
3. Responde las preguntas de repaso antes de pasar a la siguiente lección.

| Concepto | Para qué sirve |
|---|---|
| Planificación | Ordenar el trabajo de la semana |
| Registro | Dejar constancia de lo realizado |
| Revisión | Corregir a tiempo |

> Recuerda: tu asistencia queda registrada en SENCE mientras tu sesión esté abierta.

""" + "Texto de apoyo de la lección con explicaciones, ejemplos y referencias a la normativa vigente. " * 12
DESCRIPTION = ("Curso e-learning con registro de asistencia SENCE: lecciones cortas, material descargable y "
               "evaluaciones al cierre de cada módulo. ") * 3


def valid_run(number: int) -> str:
    body = str(number)
    return f"{body}-{cl_rut.calc_check_digit(body)}"


def participant_email(k: int) -> str:
    return f"participante{k}@{EMAIL_DOMAIN}"


def has_open_session(k: int) -> bool:
    return k < COHORT or k % 10 != 9


# --- Schema ----------------------------------------------------------------------------------


def ensure_schema() -> list[str]:
    """Create with create_all whatever `flask db upgrade` left missing; return the tables created so."""
    existing = set(inspect(db.engine).get_table_names())
    missing = [name for name in db.metadata.tables if name not in existing]
    if missing:
        db.metadata.create_all(db.engine, tables=[db.metadata.tables[name] for name in missing])
    return sorted(missing)


# --- Base: OTEC, staff, courses ----------------------------------------------------------------


def seed_base(password_hash: str, courses: int = COURSES) -> None:
    """The OTEC with a usable token, an admin, and `courses` courses (each with an instructor and lessons)."""
    now = utcnow()
    otec = Otec(name="OTEC Benchmark", rut=OTEC_RUT, created_at=now)
    db.session.add(otec)
    db.session.flush()
    db.session.add(SenceToken(otec_id=otec.id, label="Token benchmark", token_encrypted=tokens.encrypt(TOKEN),
                              hint=tokens.mask(TOKEN), added_at=now))
    db.session.add(User(full_name="Administración Benchmark", email=f"admin@{EMAIL_DOMAIN}", role="admin",
                        password_hash=password_hash, created_at=now))
    today = today_in_chile()
    for i in range(courses):
        instructor = User(full_name=f"Instructor {i + 1}", email=f"instructor{i}@{EMAIL_DOMAIN}", role="instructor",
                          password_hash=password_hash, created_at=now)
        course = Course(title=f"{TITLES[i % len(TITLES)]} {i + 1}", description=DESCRIPTION, hours=24,
                        start_date=today - timedelta(days=14), end_date=today + timedelta(days=45), created_at=now)
        course.instructors = [instructor]
        course.sence = CourseSence(otec_id=otec.id, linea=3, cod_sence=f"12380000{i:02d}",
                                   codigo_curso=f"BENCH-{i + 1:04d}-2025", environment="simulator",
                                   login_required=True, session_limit_minutes=SESSION_MINUTES)
        db.session.add(course)
    db.session.flush()
    _seed_lessons(now)
    _seed_evaluations(now)
    db.session.commit()


def _player_models():
    """The player's models (issue 4) when they exist, so the bench runs before and after they land."""
    models = import_module("app.courses.models")
    return getattr(models, "Lesson", None), getattr(models, "Material", None), getattr(models, "LessonProgress", None)


def _seed_lessons(now) -> None:
    lesson_model, material_model, _ = _player_models()
    if lesson_model is None:
        return
    for course_id in course_ids():
        rows = [{"course_id": course_id, "position": p, "title": f"Lección {p + 1}",
                 "body": LESSON_BODY.format(title=f"Lección {p + 1}"), "created_at": now, "updated_at": now}
                for p in range(LESSONS)]
        lesson_ids = _insert_returning(lesson_model, rows)
        if material_model is not None:
            db.session.execute(insert(material_model), [
                _material_row(f"Guía lección {p + 1}", lesson_id, now) for p, lesson_id in enumerate(lesson_ids)])


EVALUATION_QUESTIONS = 5


def _seed_evaluations(now) -> None:
    """One published evaluation per course (issue 12), after its fourth lesson: five single-choice questions."""
    try:
        models = import_module("app.evaluations.models")
    except ImportError:
        return
    lessons = _lesson_ids_by_course()
    for course_id in course_ids():
        after = lessons.get(course_id, [None] * 4)[3] if len(lessons.get(course_id, [])) > 3 else None
        evaluation = models.Evaluation(course_id=course_id, title="Control del módulo 1", position=1, published=True,
                                       after_lesson_id=after, max_attempts=1, created_at=now)
        for position in range(1, EVALUATION_QUESTIONS + 1):
            question = models.Question(kind="single", position=position, points=1,
                                       text=f"Pregunta {position}: ¿cuál de estas prácticas corresponde a la lección?")
            question.options = [models.Option(text=f"Alternativa {n}", correct=n == 2, position=n) for n in (1, 2, 3)]
            evaluation.questions.append(question)
        db.session.add(evaluation)
    db.session.flush()


def _material_row(title: str, lesson_id: int, now) -> dict:
    """A one-page PDF guide, written where the app serves material from (UPLOAD_DIR)."""
    from app.courses import uploads

    stored_name = secrets.token_hex(16) + ".pdf"
    body = pdf_bytes(title)
    uploads.path_of(stored_name).write_bytes(body)
    return {"lesson_id": lesson_id, "position": 0, "kind": "pdf", "original_name": f"{title}.pdf",
            "stored_name": stored_name, "content_type": "application/pdf", "size": len(body), "uploaded_at": now}


def pdf_bytes(title: str) -> bytes:
    """A small valid PDF (one page of text), with a correct cross-reference table."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 18 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _lesson_ids_by_course() -> dict[int, list[int]]:
    lesson_model = _player_models()[0]
    if lesson_model is None:
        return {}
    by_course: dict[int, list[int]] = {}
    rows = db.session.execute(select(lesson_model.course_id, lesson_model.id).order_by(lesson_model.position))
    for course_id, lesson_id in rows:
        by_course.setdefault(course_id, []).append(lesson_id)
    return by_course


def course_ids() -> list[int]:
    return list(db.session.execute(select(Course.id).order_by(Course.id)).scalars())


def participant_count() -> int:
    return db.session.execute(
        select(func.count()).select_from(User).where(User.role == "participant")
    ).scalar_one()


# --- Participants and their SENCE history --------------------------------------------------------


def grow_participants(total: int, password_hash: str) -> int:
    """Add participants until there are `total`; return how many were added."""
    start = participant_count()
    courses = course_ids()
    rng = random.Random(start)  # reproducible per growth step
    lessons = _lesson_ids_by_course()
    for first in range(start, total, BATCH):
        _add_batch(range(first, min(first + BATCH, total)), courses, lessons, password_hash, rng)
    return max(0, total - start)


def _add_batch(ks: range, courses: list[int], lessons: dict, password_hash: str, rng: random.Random) -> None:
    now = utcnow()
    user_ids = _insert_returning(User, [_user_row(k, password_hash, now) for k in ks])
    people = [(k, user_id, courses[k % len(courses)]) for k, user_id in zip(ks, user_ids, strict=True)]
    db.session.execute(insert(Enrollment), [_enrollment_row(k, u, c, lessons, now) for k, u, c in people])
    _add_progress(people, lessons, now)
    history = []  # (login attempt row, session row or None, logout attempt row or None)
    for k, user_id, course_id in people:
        history += _history(k, user_id, course_id, now, rng)
    login_ids = _insert_returning(Attempt, [login for login, _, _ in history])
    sessions = []
    for login_id, (_, session, _) in zip(login_ids, history, strict=True):
        if session is not None:
            sessions.append({**session, "login_attempt_id": login_id})
    session_ids = _insert_returning(SenceSession, sessions)
    db.session.execute(update(Attempt), [{"id": s["login_attempt_id"], "session_id": sid}
                                         for s, sid in zip(sessions, session_ids, strict=True)])
    by_login = {s["login_attempt_id"]: sid for s, sid in zip(sessions, session_ids, strict=True)}
    logouts = [{**logout, "session_id": by_login[login_id]}
               for login_id, (_, _, logout) in zip(login_ids, history, strict=True) if logout is not None]
    if logouts:
        db.session.execute(insert(Attempt), logouts)
    db.session.commit()


def _enrollment_row(k: int, user_id: int, course_id: int, lessons: dict, now) -> dict:
    row = {"course_id": course_id, "user_id": user_id, "created_at": now}
    if lessons:
        row["last_lesson_id"] = lessons[course_id][k % LESSONS]
    return row


def _add_progress(people: list[tuple], lessons: dict, now) -> None:
    """Participant k has completed the lessons before the one they opened last (k mod 8 of them)."""
    progress_model = _player_models()[2]
    if progress_model is None or not lessons:
        return
    rows = [{"user_id": user_id, "course_id": course_id, "lesson_id": lesson_id, "completed_at": now}
            for k, user_id, course_id in people for lesson_id in lessons[course_id][:k % LESSONS]]
    if rows:
        db.session.execute(insert(progress_model), rows)


def _insert_returning(model, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    result = db.session.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def _user_row(k: int, password_hash: str, now) -> dict:
    name = f"{FIRST[k % len(FIRST)]} {LAST[(k // len(FIRST)) % len(LAST)]} {k}"
    return {"full_name": name, "email": participant_email(k), "run": valid_run(20_000_000 + k),
            "role": "participant", "password_hash": password_hash, "active": True, "created_at": now}


def _history(k: int, user_id: int, course_id: int, now, rng: random.Random) -> list[tuple]:
    """Two closed sessions on earlier days, a failed attempt for some, and today's open session for most."""
    entries = []
    for days_ago in (2, 1):
        started = now - timedelta(days=days_ago, minutes=rng.randint(0, 600))
        entries.append(_session_entry(k, user_id, course_id, started, closed_after=rng.randint(30, 150)))
    if k % 20 == 7:
        failed = _attempt_row("login", secrets.token_urlsafe(24), user_id, course_id, k,
                              now - timedelta(minutes=rng.randint(70, 120)))
        failed.update(status="failed", error_codes="211")
        entries.append((failed, None, None))
    if has_open_session(k):
        entries.append(_session_entry(k, user_id, course_id, now - timedelta(minutes=rng.randint(1, 60))))
    return entries


def _session_entry(k, user_id, course_id, started, closed_after: int | None = None) -> tuple:
    id_sesion_alumno = secrets.token_urlsafe(24)
    login = _attempt_row("login", id_sesion_alumno, user_id, course_id, k, started - timedelta(seconds=20))
    login.update(status="succeeded", answered_at=started)
    session = {"user_id": user_id, "course_id": course_id, "id_sesion_alumno": id_sesion_alumno,
               "id_sesion_sence": str(secrets.randbelow(10**12)), "environment": "simulator",
               "started_at": started, "started_raw": started.strftime("%Y-%m-%d %H:%M:%S"),
               "zona_horaria": "America/Santiago", "time_flagged": False,
               "expires_at": started + timedelta(minutes=SESSION_MINUTES), "status": "open",
               "closed_at": None, "closed_raw": "", "close_error_codes": "", "reminder_sent_at": None}
    if closed_after is None:
        return login, session, None
    closed_at = started + timedelta(minutes=closed_after)
    session.update(status="closed", closed_at=closed_at, closed_raw=closed_at.strftime("%Y-%m-%d %H:%M:%S"))
    logout = _attempt_row("logout", id_sesion_alumno, user_id, course_id, k, closed_at - timedelta(seconds=20))
    logout.update(status="succeeded", answered_at=closed_at)
    return login, session, logout


def _attempt_row(kind, id_sesion_alumno, user_id, course_id, k, created_at) -> dict:
    return {"kind": kind, "id_sesion_alumno": id_sesion_alumno, "user_id": user_id, "course_id": course_id,
            "session_id": None, "token_id": None, "environment": "simulator", "run_alumno": valid_run(20_000_000 + k),
            "cod_sence": "1238000000", "codigo_curso": "BENCH-0001-2025", "linea": 3, "via_popup": True,
            "status": "pending", "error_codes": "", "created_at": created_at, "answered_at": None,
            "answer_fields": None}


def table_counts() -> dict[str, int]:
    models = {"users": User, "enrollments": Enrollment, "sence_attempts": Attempt, "sence_sessions": SenceSession}
    for model in filter(None, _player_models()):
        models[model.__tablename__] = model
    counts = {name: db.session.execute(select(func.count()).select_from(model)).scalar_one()
              for name, model in models.items()}
    counts["open_sessions"] = db.session.execute(
        select(func.count()).select_from(SenceSession).where(SenceSession.status == "open")
    ).scalar_one()
    counts["course_instructors"] = db.session.execute(
        select(func.count()).select_from(course_instructors)
    ).scalar_one()
    return counts

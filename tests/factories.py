"""Small factories: each test builds the data it needs."""

import itertools
import secrets
from datetime import timedelta

from stdnum.cl import rut as cl_rut

from app.auth.models import User
from app.courses.models import Course, Enrollment, Group
from app.extensions import db
from app.sence.models import Attempt, CourseSence, SenceSession
from app.timeutil import today_in_chile, utcnow

PASSWORD = "clave-segura-1"
_seq = itertools.count(1)


def valid_run(number: int) -> str:
    body = str(number)
    return f"{body}-{cl_rut.calc_check_digit(body)}"


def make_user(role: str = "participant", **fields) -> User:
    n = next(_seq)
    defaults = {"full_name": f"Persona {n}", "email": f"persona{n}@example.cl", "role": role}
    if role == "participant":
        defaults["run"] = valid_run(10_000_000 + n)
    defaults.update(fields)
    password = defaults.pop("password", PASSWORD)
    user = User(**defaults)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_course(instructors=(), **fields) -> Course:
    n = next(_seq)
    sence_fields = fields.pop("sence", {})
    defaults = {"title": f"Curso {n}", "hours": 20, "start_date": today_in_chile() - timedelta(days=1),
                "end_date": today_in_chile() + timedelta(days=30)}
    defaults.update(fields)
    course = Course(**defaults)
    course.instructors = list(instructors)
    course.sence = CourseSence(**sence_fields)
    db.session.add(course)
    db.session.commit()
    return course


def enroll(course: Course, user: User, group: Group | None = None) -> Enrollment:
    enrollment = Enrollment(course=course, user=user, group=group)
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def make_group(course: Course, name: str = "Grupo A") -> Group:
    group = Group(course=course, name=name)
    db.session.add(group)
    db.session.commit()
    return group


def login(client, user: User, password: str = PASSWORD):
    """Sign in through the real sign-in form."""
    identifier = user.email or user.run
    response = client.post("/ingresar", data={"identifier": identifier, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def open_session(user: User, course: Course, started_minutes_ago: float = 5, limit_minutes: int = 180,
                 status: str = "open") -> SenceSession:
    """A SENCE session as a successful login answer leaves it, started in the past: time control for tests."""
    started_at = utcnow() - timedelta(minutes=started_minutes_ago)
    settings = course.sence
    attempt = Attempt(kind="login", id_sesion_alumno=secrets.token_urlsafe(24), user_id=user.id, course_id=course.id,
                      environment=settings.environment, run_alumno=user.run or "", cod_sence=settings.cod_sence,
                      codigo_curso=settings.codigo_curso, linea=settings.linea, status="succeeded",
                      created_at=started_at - timedelta(seconds=40), answered_at=started_at)
    db.session.add(attempt)
    db.session.flush()
    sence_session = SenceSession(
        user_id=user.id, course_id=course.id, login_attempt_id=attempt.id, id_sesion_alumno=attempt.id_sesion_alumno,
        id_sesion_sence=secrets.token_hex(10), environment=attempt.environment, started_at=started_at,
        expires_at=started_at + timedelta(minutes=limit_minutes), status=status,
    )
    db.session.add(sence_session)
    db.session.flush()
    attempt.session_id = sence_session.id
    db.session.commit()
    return sence_session

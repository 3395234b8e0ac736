"""A course with SENCE evidence for two participants, so that every test can check 'this person, nobody else'."""

from dataclasses import dataclass
from datetime import timedelta

from app.courses.models import Lesson, LessonProgress
from app.extensions import db
from app.notify.service import enqueue
from app.sence.models import Exchange
from app.timeutil import utcnow
from tests.notify.helpers import open_session
from tests.sence.builders import TOKEN, make_otec, participant_in, sence_course


@dataclass
class World:
    course: object
    ana: object
    benito: object


def closed_session(user, course, hours: float = 2.0, days_ago: int = 1):
    """A session opened and closed through SENCE, with its exchanges as the callback logs them."""
    started = utcnow() - timedelta(days=days_ago)
    sence_session = open_session(user, course, started_at=started, status="closed",
                                 closed_at=started + timedelta(hours=hours))
    attempt = sence_session.login_attempt
    db.session.add_all([
        Exchange(at=started, direction="out", endpoint="IniciarSesion", attempt_id=attempt.id,
                 fields={"RutOtec": "76123456-0", "RunAlumno": user.run, "IdSesionAlumno": attempt.id_sesion_alumno,
                         "CodSence": course.sence.cod_sence}),
        Exchange(at=started, direction="in", endpoint="IniciarSesion", attempt_id=attempt.id, outcome="accepted",
                 fields={"RunAlumno": user.run, "IdSesionSence": sence_session.id_sesion_sence,
                         "IdSesionAlumno": attempt.id_sesion_alumno}),
    ])
    db.session.commit()
    return sence_session


def build_world() -> World:
    otec = make_otec(token=TOKEN)
    course = sence_course(otec, connectivity_target=10)
    course.hours = 10
    lesson = Lesson(course_id=course.id, title="Tablas dinámicas", body="", position=1)
    db.session.add(lesson)
    db.session.commit()
    ana = participant_in(course, full_name="Ana Pérez Rojas", email="ana.perez@correo.cl", phone="+56 9 1111 2222",
                         mobile="+56 9 3333 4444")
    benito = participant_in(course, full_name="Benito Soto Lagos", email="benito.soto@correo.cl",
                            phone="+56 9 5555 6666")
    for user in (ana, benito):
        closed_session(user, course)
        db.session.add(LessonProgress(user_id=user.id, course_id=course.id, lesson_id=lesson.id))
        enqueue("reminder", [user.email], f"Cierra tu sesión SENCE, {user.full_name}", f"Hola {user.full_name}",
                user_id=user.id, course_id=course.id)
    db.session.commit()
    return World(course, ana, benito)

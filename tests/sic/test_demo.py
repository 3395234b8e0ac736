"""`seed-demo` adds a line-1 course with SIC on in the simulator, and Ana's progress reaches the simulator."""

from sqlalchemy import select

from app.courses.models import Course
from app.demo import seed_demo
from app.sence.service import course_problems
from app.sic import service
from app.sic.demo import TITLE


def test_the_demo_has_a_sic_course_ready_to_send(app, db, sic):
    seed_demo()
    seed_demo()  # idempotent
    [course] = db.session.execute(select(Course).where(Course.title == TITLE)).scalars().all()
    settings = service.settings_of(course)
    assert course.sence.linea == 1 and settings.enabled and settings.environment == "simulator"
    assert [len(m.lessons) + len(m.evaluations) for m in settings.modules] == [3, 2]
    assert service.problems(course) == []
    assert course_problems(course) == []  # and its participants can register their attendance with SENCE

    record = service.send_course(course, "manual")

    assert record.status == "accepted"
    [ana] = record.request_body["listaAlumnos"]
    assert (ana["rutAlumno"], ana["porcentajeAvance"], ana["evaluacionFinal"]) == (11111111, 60, 100)
    assert ana["tiempoConectividad"] == 37 * 60
    assert [m["porcentajeAvance"] for m in ana["listaModulos"]] == [100, 0]

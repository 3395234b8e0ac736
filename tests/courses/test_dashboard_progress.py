"""The dashboard shows each course's progress and where to continue (issue 11, item 4)."""

import re

from tests.courses.helpers import gated_course, lesson_with, participant_signed_in
from tests.factories import login, make_user, open_session


def test_the_dashboard_shows_lessons_completed_and_the_last_lesson_opened(client):
    course, first = gated_course(title="Excel intermedio")
    second = lesson_with(course, "Tablas dinámicas")
    lesson_with(course, "Gráficos")
    user = participant_signed_in(client, course)
    open_session(user, course)
    client.post(f"/cursos/{course.id}/lecciones/{first.id}/completada", data={"done": "1"})
    client.get(f"/cursos/{course.id}/lecciones/{second.id}")

    page = client.get("/").get_data(as_text=True)
    assert "1 de 3 lecciones completadas" in page
    assert "Última lección: <strong>Tablas dinámicas</strong>" in page
    assert re.search(rf'href="/cursos/{course.id}" aria-label="Continuar «Excel intermedio»">Continuar</a>', page)


def test_a_course_not_started_offers_to_start(client):
    course, _ = gated_course(title="Word básico")
    participant_signed_in(client, course)
    page = client.get("/").get_data(as_text=True)
    assert "0 de 1 lección completadas" not in page and "0 de 1 lección completada" in page
    assert "Aún no abres ninguna lección." in page and ">Empezar</a>" in page


def test_instructors_get_links_to_their_course_screens_not_progress(client):
    teacher = make_user("instructor")
    course, _ = gated_course(title="Excel", instructors=[teacher])
    login(client, teacher)
    page = client.get("/").get_data(as_text=True)
    for path in ("lecciones/gestionar", "asistencia", "avance", "en-vivo"):
        assert f"/{course.id}/{path}" in page
    assert "Continuar" not in page


def test_lessons_completed_without_a_last_lesson_offer_to_continue_not_to_start(client, db):
    """The lesson opened last was deleted (its link is cleared), but the participant has completed lessons."""
    from app.courses.models import Enrollment

    course, first = gated_course(title="Excel intermedio")
    lesson_with(course, "Tablas dinámicas")
    user = participant_signed_in(client, course)
    open_session(user, course)
    client.post(f"/cursos/{course.id}/lecciones/{first.id}/completada", data={"done": "1"})
    db.session.execute(db.update(Enrollment).where(Enrollment.user_id == user.id).values(last_lesson_id=None))
    db.session.commit()

    page = client.get("/").get_data(as_text=True)
    assert "1 de 2 lecciones completadas" in page
    assert "Aún no abres ninguna lección." not in page and ">Empezar</a>" not in page
    assert 'aria-label="Continuar «Excel intermedio»">Continuar</a>' in page

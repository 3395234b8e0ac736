"""With an open session the SENCE box skips the course's readiness checks (bench/README.md): close stays offered."""

from app.extensions import db
from app.timeutil import utcnow
from tests.sence.builders import sence_course, signed_in_participant, start, success_answer


def test_an_open_session_keeps_its_close_button_when_the_course_stops_being_ready(client, app):
    course = sence_course()
    signed_in_participant(client, course)
    app.test_client().post("/s/r", data=success_answer(start(client, course)))
    for token in course.sence.otec.tokens:  # the OTEC's token is revoked while the participant studies
        token.revoked_at = utcnow()
    db.session.commit()

    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)

    assert "Sesión SENCE activa" in html and "Cerrar sesión SENCE" in html
    assert "aún no está disponible" not in html


def test_without_a_session_an_unready_course_still_says_so(client, app):
    course = sence_course()
    signed_in_participant(client, course)
    for token in course.sence.otec.tokens:
        token.revoked_at = utcnow()
    db.session.commit()

    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)

    assert "aún no está disponible" in html and "Iniciar sesión SENCE" not in html

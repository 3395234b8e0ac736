"""Open SENCE sessions are never forgotten: listed on the dashboard, and asked about when signing out."""

from datetime import timedelta

from sqlalchemy import select

from app.sence.models import SenceSession
from app.timeutil import utcnow
from tests.factories import enroll, login, make_course, make_user, open_session


def _participant_with_sessions(client, db):
    excel, word, done = make_course(title="Excel intermedio"), make_course(title="Word básico"), make_course()
    user = make_user("participant")
    for course in (excel, word, done):
        enroll(course, user)
    open_session(user, excel, started_minutes_ago=30)
    open_session(user, word, started_minutes_ago=170)
    open_session(user, done, started_minutes_ago=60, status="closed")
    open_session(user, done, started_minutes_ago=200)  # expired: nothing left to close
    login(client, user)
    return user, excel, word


def test_the_dashboard_lists_every_open_session_with_time_left_and_a_close_button(client, db):
    user, excel, word = _participant_with_sessions(client, db)

    html = client.get("/").get_data(as_text=True)

    box = html.split('id="open-sessions"')[1].split("</section>")[0]
    assert "Sesiones SENCE abiertas" in box
    assert box.index("Word básico") < box.index("Excel intermedio")  # soonest to expire first
    assert "Quedan <strong>0:09:" in box or "Quedan <strong>0:10:" in box
    assert "Quedan <strong>2:29:" in box or "Quedan <strong>2:30:" in box
    for course in (excel, word):
        assert f'action="/sence/cursos/{course.id}/cerrar" data-sence-popup' in box
    assert box.count("Cerrar sesión SENCE") == 2
    assert '/static/js/sence.js' in html


def test_the_dashboard_box_refreshes_itself_after_a_close(client, db):
    user, excel, word = _participant_with_sessions(client, db)
    for sence_session in db.session.execute(select(SenceSession)).scalars():
        sence_session.status = "closed"
    db.session.commit()

    response = client.get("/", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)

    assert html.lstrip().startswith('<section id="open-sessions"') and "Cerrar sesión SENCE" not in html
    assert 'hx-trigger="sence:changed from:body, every 60s"' in html


def test_staff_see_no_session_box(client, db):
    login(client, make_user("instructor"))
    assert "open-sessions" not in client.get("/").get_data(as_text=True)


def test_signing_out_with_an_open_session_asks_first(client, db):
    user, excel, word = _participant_with_sessions(client, db)

    response = client.post("/salir")

    assert response.status_code == 303 and response.headers["Location"].endswith("/salir/confirmar")
    html = client.get("/salir/confirmar").get_data(as_text=True)
    assert "Tienes 2 sesiones SENCE abiertas" in html and "¿Quieres cerrarlas en SENCE antes de salir?" in html
    assert f'action="/sence/cursos/{excel.id}/cerrar"' in html and f'action="/sence/cursos/{word.id}/cerrar"' in html
    assert "Salir sin cerrar la sesión SENCE" in html
    assert client.get("/").status_code == 200  # still signed in


def test_signing_out_anyway_signs_out(client, db):
    _participant_with_sessions(client, db)

    response = client.post("/salir", data={"anyway": "1"})

    assert response.status_code == 302 and "/ingresar" in response.headers["Location"]
    assert client.get("/").status_code == 302


def test_without_open_sessions_signing_out_is_immediate(client, db):
    user = make_user("participant")
    course = make_course()
    enroll(course, user)
    sence_session = open_session(user, course, started_minutes_ago=10)
    sence_session.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    login(client, user)

    response = client.post("/salir")

    assert response.status_code == 302 and "/ingresar" in response.headers["Location"]


def test_the_confirmation_updates_when_the_last_session_is_closed(client, db):
    _participant_with_sessions(client, db)
    for sence_session in db.session.execute(select(SenceSession)).scalars():
        sence_session.status = "closed"
    db.session.commit()

    html = client.get("/salir/confirmar", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert html.lstrip().startswith('<div id="logout-choices"')
    assert "No tienes sesiones SENCE abiertas." in html and ">Salir de Pizarra</button>" in html

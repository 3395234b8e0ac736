"""Suppression: the person's name, e-mail, phone and password leave every table and export; SENCE evidence stays
under a pseudonym and still adds up in the course's attendance report."""

import io

from openpyxl import load_workbook
from sqlalchemy import select, text

from app.auth.models import User
from app.courses.models import Enrollment, LessonProgress
from app.extensions import db as _db
from app.notify.models import OutboxMessage
from app.privacy.models import Pseudonym, RequestEvent
from app.privacy.suppression import run_digest
from app.reports.service import attendance
from app.sence.models import Attempt, Exchange, SenceSession
from tests.factories import PASSWORD, login, make_course, make_user
from tests.privacy.helpers import build_world

ANA = ("Ana Pérez Rojas", "ana.perez@correo.cl", "+56 9 1111 2222", "+56 9 3333 4444")


def _every_row_as_text() -> str:
    """Every value of every table, as text: what a suppression must leave no trace in."""
    chunks = []
    with _db.engine.connect() as conn:
        for table in _db.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                chunks.append(" | ".join(str(value) for value in row))
    return "\n".join(chunks)


def _file_and_suppress(client, world, admin):
    login(client, world.ana)
    client.post("/mis-datos/solicitudes", data={"kind": "suppression", "detail": "Quiero que borren mis datos."})
    client.post("/salir", data={"anyway": "1"})
    login(client, admin)
    request_id = _db.session.execute(text("SELECT id FROM privacy_requests")).scalar_one()
    response = client.post(f"/admin/privacidad/solicitudes/{request_id}/suprimir")
    assert response.status_code == 302
    return request_id


def test_suppression_erases_identity_everywhere_and_keeps_evidence_under_a_pseudonym(client, db):
    world = build_world()
    admin = make_user("admin")
    password_hash, ana_run = world.ana.password_hash, world.ana.run
    before = {row.user.id: (row.sessions_counted, row.hours_counted) for row in attendance(world.course).rows}

    request_id = _file_and_suppress(client, world, admin)

    everything = _every_row_as_text()
    for value in (*ANA, password_hash, ana_run):
        assert value not in everything, value
    assert "Benito Soto Lagos" in everything  # nobody else's data was touched

    db.session.expire_all()
    ana = db.session.get(User, world.ana.id)
    pseudonym = db.session.get(Pseudonym, ana.id)
    assert ana.full_name == f"Participante seudonimizado {pseudonym.code}"
    assert (ana.email, ana.run, ana.phone, ana.mobile, ana.password_hash, ana.active) == (
        None, None, None, None, None, False)
    assert pseudonym.run_digest == run_digest(ana_run)  # the OTEC can still answer SENCE about that RUN

    # The evidence is kept: the session, its attempt under the pseudonym, the exchanges, the enrolment.
    assert db.session.query(SenceSession).filter_by(user_id=ana.id).count() == 1
    assert {a.run_alumno for a in db.session.query(Attempt).filter_by(user_id=ana.id)} == {pseudonym.code}
    fields = [x.fields for x in db.session.query(Exchange).join(Attempt).filter(Attempt.user_id == ana.id)]
    assert len(fields) == 2 and all(f["RunAlumno"] == pseudonym.code for f in fields)
    assert db.session.query(Enrollment).filter_by(user_id=ana.id).count() == 1
    # ... everything else is gone.
    assert db.session.query(LessonProgress).filter_by(user_id=ana.id).count() == 0
    assert db.session.query(OutboxMessage).filter_by(user_id=ana.id).count() == 0

    after = {row.user.id: (row.sessions_counted, row.hours_counted) for row in attendance(world.course).rows}
    assert after == before
    report_html = client.get(f"/reportes/cursos/{world.course.id}/asistencia").get_data(as_text=True)
    assert pseudonym.code in report_html and "Ana" not in report_html

    event = db.session.query(RequestEvent).filter_by(request_id=request_id, kind="suppressed").one()
    assert pseudonym.code in event.text and event.actor_id == admin.id


def test_exports_after_suppression_carry_the_pseudonym_only(client, db):
    world = build_world()
    _file_and_suppress(client, world, make_user("admin"))
    code = db.session.execute(select(Pseudonym.code)).scalar_one()
    base = f"/reportes/cursos/{world.course.id}"
    csv_text = client.get(f"{base}/asistencia.csv").data.decode("utf-8-sig")
    sessions_text = client.get(f"{base}/sesiones.csv").data.decode("utf-8-sig")
    workbook = load_workbook(io.BytesIO(client.get(f"{base}/asistencia.xlsx").data))
    xlsx_text = " ".join(str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row)
    for exported in (csv_text, sessions_text, xlsx_text):
        assert code in exported and "Benito Soto Lagos" in exported
        for value in ANA:
            assert value not in exported


def test_the_suppressed_person_cannot_sign_in(client, db):
    world = build_world()
    email = world.ana.email
    _file_and_suppress(client, world, make_user("admin"))
    client.post("/salir")
    response = client.post("/ingresar", data={"identifier": email, "password": PASSWORD})
    assert response.status_code == 422
    assert "incorrectos" in response.get_data(as_text=True)


def test_only_participants_are_suppressed_and_only_once(client, db):
    world = build_world()
    admin = make_user("admin")
    request_id = _file_and_suppress(client, world, admin)
    again = client.post(f"/admin/privacidad/solicitudes/{request_id}/suprimir", follow_redirects=True)
    assert "ya fueron suprimidos" in again.get_data(as_text=True)
    assert db.session.query(Pseudonym).count() == 1


def test_enrolments_outside_sence_courses_are_erased(client, db):
    world = build_world()
    plain = make_course(sence={"cod_sence": ""})
    from tests.factories import enroll

    enroll(plain, world.ana)
    _file_and_suppress(client, world, make_user("admin"))
    courses = {e.course_id for e in db.session.query(Enrollment).filter_by(user_id=world.ana.id)}
    assert courses == {world.course.id}

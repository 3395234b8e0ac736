"""Personal data in the features built beside privacy: grades, certificates, close-out and SIC. The same rules as
for SENCE evidence: the person's own data in "Mis datos", nobody else's; suppression pseudonymises the evidence and
it still adds up; retention ages it out; blocked people get no e-mail; every staff export is in the trail."""

import io
import json
import shutil
import subprocess
import zipfile
from datetime import datetime, timedelta

from sqlalchemy import select

from app.certificates import service as certificates
from app.certificates.models import Certificate
from app.evaluations.models import EvaluationAttempt, StatusOverride
from app.evaluations.status import participant_status
from app.extensions import db as _db
from app.notify.models import OutboxMessage
from app.privacy import retention
from app.privacy.models import AccessEvent, Pseudonym
from app.privacy.service import block, file_request
from app.privacy.suppression import suppress
from app.reports.service import attendance
from app.sic.models import CourseSic, SicAccepted, SicAction, SicSend
from app.sweep import mail_sweep as sweep
from app.timeutil import CHILE, utcnow
from tests.certificates.helpers import certificate_row
from tests.closeout import helpers as closeout
from tests.evaluations.helpers import make_evaluation, take
from tests.factories import login, make_course, make_user
from tests.privacy.helpers import build_world
from tests.privacy.test_suppression import _every_row_as_text

NOW = utcnow()


def _student(user, percent: int) -> dict:
    number, dv = user.run.split("-")
    return {"rutAlumno": int(number), "dvAlumno": dv, "porcentajeAvance": percent, "estado": 1,
            "listaModulos": [{"codigoModulo": "M1", "porcentajeAvance": percent}]}


def graded_world():
    """The privacy world plus an evaluation both took, their certificates, and a SIC history of the course."""
    world = build_world()
    course = world.course
    evaluation = make_evaluation(course, title="Prueba final")
    take(evaluation, world.ana)
    take(evaluation, world.benito, correct=0)
    _db.session.add(StatusOverride(course_id=course.id, user_id=world.ana.id, status="aprobado",
                                   reason="Rindió la prueba en papel, Ana Pérez Rojas"))
    for user in (world.ana, world.benito):
        certificate_row(course, user, course.sence.otec)
    _db.session.add(CourseSic(course_id=course.id, enabled=True, codigo_oferta="OF-1", codigo_grupo="G-1"))
    for user in (world.ana, world.benito):
        _db.session.add(SicAction(course_id=course.id, user_id=user.id, at=NOW - timedelta(hours=2)))
        _db.session.add(SicAccepted(course_id=course.id, user_id=user.id, module="", percent=40, accepted_at=NOW))
    ana_number = world.ana.run.split("-")[0]
    _db.session.add(SicSend(
        course_id=course.id, trigger="sweep", environment="simulator", url="http://sic", status="partial",
        participants=2, rejected=1, started_at=NOW,
        request_body={"rutOtec": "76123456-0", "token": "********",
                      "listaAlumnos": [_student(world.ana, 40), _student(world.benito, 55)]},
        rejections=[{"rut": ana_number, "name": world.ana.full_name, "run": world.ana.run, "code": "012",
                     "message": f"El alumno {world.ana.run} no se encuentra registrado."}],
        response_text=f'{{"rut": {ana_number}, "mensaje": "El alumno {world.ana.run} no se encuentra registrado."}}'))
    _db.session.commit()
    return world


# --- Mis datos ------------------------------------------------------------------------------------------------


def test_the_zip_holds_grades_certificates_and_sic_data_of_the_person_only(client, db):
    world = graded_world()
    login(client, world.ana)
    response = client.get("/mis-datos/descargar.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("datos.json"))

    [attempt] = data["calificaciones"]
    assert attempt["evaluacion"] == "Prueba final" and attempt["nota"] == "7.0"
    assert len(attempt["respuestas"]) == 1
    assert [d["motivo"] for d in data["estado_curso"]] == ["Rindió la prueba en papel, Ana Pérez Rojas"]
    [cert] = data["certificados"]
    assert cert["nombre"] == "Ana Pérez Rojas" and cert["run"] == world.ana.run
    assert len(data["sic_acciones"]) == 1
    assert [(r["modulo"], r["avance_pct"]) for r in data["sic_avance_aceptado"]] == [("(curso)", 40)]
    [send] = data["sic_envios"]
    assert [s["rutAlumno"] for s in send["enviado"]] == [int(world.ana.run.split("-")[0])]
    assert [r["code"] for r in send["rechazos"]] == ["012"]
    assert {"calificaciones.csv", "certificados.csv", "sic_envios.csv"} <= set(archive.namelist())
    assert "Prueba final" in archive.read("calificaciones.csv").decode("utf-8-sig")

    everything = "\n".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    benito_number = world.benito.run.split("-")[0]
    for other in ("Benito", world.benito.run, benito_number):
        assert other not in everything, other
    assert "********" not in everything and "token" not in everything.lower()


def test_the_page_lists_the_new_sections(client, db):
    world = graded_world()
    login(client, world.ana)
    html = client.get("/mis-datos").get_data(as_text=True)
    assert "Calificaciones (intentos de evaluación)" in html and "Certificados" in html
    assert "Envíos a SIC con tus datos" in html


# --- Suppression ----------------------------------------------------------------------------------------------


def _suppress_ana(world):
    admin = make_user("admin")
    suppress(file_request(world.ana, "suppression", ""), admin)
    _db.session.expire_all()
    return _db.session.execute(select(Pseudonym.code)).scalar_one(), admin


def test_suppression_pseudonymises_certificates_grades_and_sic_and_everything_adds_up(client, db):
    world = graded_world()
    course = world.course
    ana_id, ana_run, benito_run = world.ana.id, world.ana.run, world.benito.run
    grade_before = participant_status(course.id, ana_id).final_grade
    hours_before = {row.user.id: row.hours_counted for row in attendance(course).rows}

    code, admin = _suppress_ana(world)

    everything = _every_row_as_text()
    for value in ("Ana Pérez Rojas", ana_run, ana_run.split("-")[0]):
        assert value not in everything, value
    assert "Benito Soto Lagos" in everything and benito_run in everything

    cert = db.session.execute(select(Certificate).where(Certificate.user_id == ana_id)).scalar_one()
    assert (cert.participant_name, cert.participant_run) == (f"Participante seudonimizado {code}", "")
    assert cert.is_valid and cert.final_grade is not None  # evidence: kept
    if shutil.which("pdftotext"):  # the PDF is rendered again from the pseudonymised snapshot
        pdf_text = subprocess.run(["pdftotext", "-", "-"], input=certificates.pdf_of(cert), capture_output=True,
                                  check=True).stdout.decode()
        assert f"Participante seudonimizado {code}" in pdf_text and "Ana" not in pdf_text
        assert "RUN" not in pdf_text.replace("RUT", "")
    assert db.session.query(EvaluationAttempt).filter_by(user_id=ana_id).count() == 1  # a SENCE course: kept
    assert participant_status(course.id, ana_id).final_grade == grade_before
    assert {row.user.id: row.hours_counted for row in attendance(course).rows} == hours_before

    send = db.session.execute(select(SicSend)).scalar_one()
    ana_line, benito_line = send.request_body["listaAlumnos"]
    assert (ana_line["rutAlumno"], ana_line["dvAlumno"], ana_line["porcentajeAvance"]) == (code, "", 40)
    assert benito_line == _student(world.benito, 55)
    assert send.rejections[0]["rut"] == code and send.rejections[0]["name"] == f"Participante seudonimizado {code}"
    assert code in send.response_text
    assert db.session.query(SicAccepted).filter_by(user_id=ana_id).count() == 1  # ids only: kept

    login(client, admin)
    log_html = client.get(f"/sic/cursos/{course.id}/registro").get_data(as_text=True)
    assert "Ana" not in log_html and code in log_html


def test_the_verification_page_no_longer_names_the_suppressed_holder(client, db):
    world = graded_world()
    folio = db.session.execute(select(Certificate.folio).where(Certificate.user_id == world.ana.id)).scalar_one()
    _suppress_ana(world)
    html = client.get(f"/verificar/{folio}").get_data(as_text=True)
    assert "Certificado válido" in html
    assert "Datos personales suprimidos a solicitud del titular" in html
    assert "Ana" not in html and "seudonimizado" not in html and "RUN" not in html


def test_grades_outside_sence_courses_are_erased(db):
    world = graded_world()
    plain = make_course(sence={"cod_sence": ""})
    from tests.factories import enroll

    enroll(plain, world.ana)
    take(make_evaluation(plain, title="Sin SENCE"), world.ana)
    _db.session.add(StatusOverride(course_id=plain.id, user_id=world.ana.id, status="aprobado", reason="x"))
    _db.session.commit()
    _suppress_ana(world)
    kept = db.session.execute(select(EvaluationAttempt).where(EvaluationAttempt.user_id == world.ana.id)).scalars()
    assert [a.evaluation.title for a in kept] == ["Prueba final"]
    assert {o.course_id for o in db.session.query(StatusOverride).filter_by(user_id=world.ana.id)} == {
        world.course.id}


# --- Retention ------------------------------------------------------------------------------------------------


def test_grades_certificates_and_sic_age_out_and_the_closed_account_goes_last(db):
    world = graded_world()
    ana_id = world.ana.id
    _suppress_ana(world)
    old = NOW - timedelta(days=6 * 365)
    for attempt in db.session.query(EvaluationAttempt):
        attempt.started_at = old
    for cert in db.session.query(Certificate).filter_by(user_id=ana_id):
        cert.issued_at = old
    for row in db.session.query(SicAction):
        row.at = old
    db.session.query(SicSend).one().started_at = old
    db.session.commit()
    runs = {run.data_class: run.counts for run in retention.run_retention(NOW)}

    assert runs["grades_certificates"] == {"evaluation_attempts": 2, "status_overrides": 0, "certificates": 1,
                                           "suppressed_accounts": 0}  # her SENCE attempts are still in time
    assert (runs["sence_evidence"]["sic_actions"], runs["sence_evidence"]["sic_sends"]) == (2, 1)
    assert db.session.query(Certificate).filter_by(user_id=world.benito.id).count() == 1  # this week's

    from app.sence.models import Attempt

    for attempt in db.session.query(Attempt).filter_by(user_id=ana_id):
        attempt.created_at = old
    db.session.commit()
    later = {run.data_class: run.counts for run in retention.run_retention(NOW + timedelta(days=2))}
    assert later["sence_evidence"]["suppressed_accounts"] == 1
    assert db.session.get(Pseudonym, ana_id) is None


def test_the_settings_page_names_the_new_counts(client, db):
    graded_world()
    retention.run_retention(NOW)
    login(client, make_user("admin"))
    html = client.get("/admin/privacidad").get_data(as_text=True)
    assert "certificados" in html and "envíos SIC" in html


# --- Blocking: no close-out e-mail ----------------------------------------------------------------------------


def test_a_blocked_participant_gets_no_dj_email_and_the_others_do(db, smtp):
    course = closeout.finished_course(ended_days_ago=0)
    ana = closeout.participant(course, "Ana Pérez", email="ana@correo.cl")
    closeout.participant(course, "Benito Soto", email="benito@correo.cl")
    block(file_request(ana, "blocking", "Reviso un reclamo."), make_user("admin"))
    day = course.end_date + timedelta(days=1)
    sweep(now=datetime(day.year, day.month, day.day, 12, tzinfo=CHILE))
    assert smtp.recipients() == ["benito@correo.cl"]
    assert db.session.query(OutboxMessage).filter_by(user_id=ana.id).count() == 0


# --- Access trail ---------------------------------------------------------------------------------------------


def test_each_new_staff_export_is_in_the_trail(client, db):
    world = graded_world()
    c = world.course.id
    ana_cert = db.session.execute(select(Certificate.id).where(Certificate.user_id == world.ana.id)).scalar_one()
    login(client, make_user("admin"))
    for url in (f"/cursos/{c}/calificaciones.csv", f"/cursos/{c}/calificaciones.xlsx",
                f"/cursos/{c}/calificaciones/participantes/{world.ana.id}", f"/certificados/{ana_cert}.pdf",
                f"/certificados/cursos/{c}/certificados.zip", f"/cierre/cursos/{c}/evidencia.zip",
                f"/sic/cursos/{c}/registro"):
        assert client.get(url).status_code == 200, url
    client.get(f"/cursos/{c}/calificaciones")  # the gradebook page itself is not recorded (like the report list)

    events = [(e.action, e.course_id, e.subject_user_id, e.people)
              for e in db.session.query(AccessEvent).order_by(AccessEvent.id)]
    assert events == [("gradebook_export", c, None, 2), ("gradebook_export", c, None, 2),
                      ("grades_detail", c, world.ana.id, 1), ("certificate_pdf", c, world.ana.id, 1),
                      ("certificates_zip", c, None, 2), ("closeout_bundle", c, None, 2), ("sic_log", c, None, 1)]
    trail_html = client.get("/admin/privacidad/accesos").get_data(as_text=True)
    assert "Exportó las calificaciones" in trail_html and "Descargó la evidencia de cierre" in trail_html

"""The SIC pages as OTEC staff use them: settings and "revisar", modules, dry run, send now, log and history."""

from sqlalchemy import select

from app.courses.models import Lesson
from app.sic import service
from app.sic.models import CourseSic, SicModuleLesson, SicSend
from tests.evaluations.helpers import make_evaluation
from tests.factories import login, make_course, make_user
from tests.sence.builders import TOKEN, make_otec
from tests.sic.conftest import participant, sic_course


def _admin(client):
    login(client, make_user("admin"))


def test_sic_is_off_by_default_and_on_for_line_1(app, client, db):
    _admin(client)
    franquicia = make_course(sence={"linea": 3})
    social = make_course(sence={"linea": 1, "otec_id": make_otec().id})
    page = client.get(f"/sic/cursos/{franquicia.id}").get_data(as_text=True)
    assert '<input id="enabled" name="enabled" type="checkbox" value="y">' in page  # unchecked
    page = client.get(f"/sic/cursos/{social.id}").get_data(as_text=True)
    assert '<input checked id="enabled" name="enabled" type="checkbox" value="y">' in page
    assert "Falta el código del curso (codigoOferta)" in page and "al menos un módulo SIC" in page
    assert "Enviar ahora</button>" in page and "disabled>Enviar ahora" in page


def test_staff_configure_codes_modules_and_their_lessons(app, client, db):
    _admin(client)
    course = make_course(sence={"linea": 1, "otec_id": make_otec().id})
    lesson = Lesson(course_id=course.id, title="Introducción", body="", position=1)
    db.session.add(lesson)
    db.session.commit()
    evaluation = make_evaluation(course, title="Prueba final")
    answer = client.post(f"/sic/cursos/{course.id}", data={"enabled": "y", "codigo_oferta": "OF-1",
                                                           "codigo_grupo": "G-1", "environment": "simulator"})
    assert answer.status_code == 303
    assert client.post(f"/sic/cursos/{course.id}/modulos", data={"codigo": "ELE028837032039"}).status_code == 303
    again = client.post(f"/sic/cursos/{course.id}/modulos", data={"codigo": "ELE028837032039"})
    assert again.status_code == 422 and "ya está en el curso" in again.get_data(as_text=True)
    module = service.settings_of(course).modules[0]
    page = client.get(f"/sic/cursos/{course.id}").get_data(as_text=True)
    assert "El módulo ELE028837032039 no tiene lecciones ni evaluaciones asignadas." in page
    assert "Lección 1: Introducción" in page and "Evaluación: Prueba final" in page

    client.post(f"/sic/cursos/{course.id}/asignacion", data={f"leccion-{lesson.id}": str(module.id),
                                                             f"evaluacion-{evaluation.id}": str(module.id),
                                                             "leccion-999999": str(module.id)})

    settings = db.session.get(CourseSic, course.id)
    assert (settings.enabled, settings.codigo_oferta, settings.codigo_grupo) == (True, "OF-1", "G-1")
    assert [row.lesson_id for row in db.session.execute(select(SicModuleLesson)).scalars()] == [lesson.id]
    assert [row.evaluation_id for row in module.evaluations] == [evaluation.id]
    page = client.get(f"/sic/cursos/{course.id}").get_data(as_text=True)
    assert "no tiene lecciones" not in page
    assert "El curso no tiene participantes que informar." in page


def test_a_too_long_code_is_refused_and_nothing_changes(app, client, db):
    _admin(client)
    course = make_course(sence={"linea": 1})
    answer = client.post(f"/sic/cursos/{course.id}", data={"codigo_oferta": "X" * 51, "codigo_grupo": "",
                                                           "environment": "simulator"})
    assert answer.status_code == 422
    assert db.session.get(CourseSic, course.id).codigo_oferta == ""


def test_dry_run_shows_the_json_with_the_token_masked_and_sends_nothing(app, client, db, sic):
    course = sic_course(lessons=2, modules=("M1",))
    participant(course, run="13556884-8")
    _admin(client)
    page = client.get(f"/sic/cursos/{course.id}/vista-previa").get_data(as_text=True)
    assert "&#34;idSistema&#34;: 1350" in page and "&#34;rutAlumno&#34;: 13556884" in page
    assert "8FCF…4F8F" in page and TOKEN not in page
    assert db.session.execute(select(SicSend)).first() is None
    assert sic.history(rutOtec="76123456-0", idSistema=1350, token=TOKEN) == []


def test_send_now_then_the_log_shows_rejections_in_spanish_beside_sences_history(app, client, db, sic):
    course = sic_course(lessons=2, modules=("M1",))
    participant(course, full_name="Ana Pérez")
    beto = participant(course, full_name="Beto Soto")
    sic.force("012", rut=beto.run.split("-")[0])
    _admin(client)

    answer = client.post(f"/sic/cursos/{course.id}/enviar")
    assert answer.status_code == 303 and "/registro#envio-" in answer.headers["Location"]
    log = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Aceptado con rechazos" in log and "Proceso SENCE 1" in log and "2 participantes, 1 rechazados" in log
    assert f"Beto Soto ({beto.run}) · código 012" in log and "SENCE no conoce el RUN del participante" in log
    assert "Qué hacer:" in log and TOKEN not in log

    history = client.get(f"/sic/cursos/{course.id}/historial", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Proceso 1" in history and "[012]" in history and "<html" not in history
    # SENCE's codes and decimals read as words and Chilean numbers, not as they came ("3", "0.00000")
    assert '<span class="badge err">Rechazado</span>' in history
    assert '<span class="badge ok">Registrado</span>' in history
    assert "0,0 %" in history and "0.00000" not in history
    bad_date = client.get(f"/sic/cursos/{course.id}/historial?desde=ayer").get_data(as_text=True)
    assert "La fecha «desde» no es válida" in bad_date


def test_history_reports_a_sence_error_in_spanish(app, client, db, sic):
    course = sic_course(lessons=1, modules=("M1",))
    course.sence.otec.rut = "76123456-1"  # a wrong check digit: the simulator answers 001
    db.session.commit()
    _admin(client)
    page = client.get(f"/sic/cursos/{course.id}/historial").get_data(as_text=True)
    assert "SENCE no entregó el historial" in page and "001 Token inválido" in page


def test_history_out_of_reach_says_so_in_spanish(app, client, db, sic):
    course = sic_course(lessons=1, modules=("M1",))
    _admin(client)
    app.config["SIC_SIMULATOR_URL"] = "http://127.0.0.1:9/sic"  # nothing listens on the discard port
    page = client.get(f"/sic/cursos/{course.id}/historial").get_data(as_text=True)
    assert "No se pudo consultar el historial en SENCE (no se pudo conectar)." in page
    assert "ConnectionError" not in page

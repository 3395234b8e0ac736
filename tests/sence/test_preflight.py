"""«Revisar antes de empezar»: every problem Pizarra can see before day 1, on the SENCE page and the course list."""

from datetime import date, timedelta

import pytest

from app.sence.preflight import CourseFacts, TokenFacts, review
from app.timeutil import CHILE, utcnow
from tests.factories import login, make_user
from tests.sence.builders import make_otec, participant_in, sence_course

TODAY = date(2025, 3, 3)
GOOD_TOKEN = TokenFacts(well_formed=True, usable_today=True)


def ready_facts(**changes) -> CourseFacts:
    facts = CourseFacts(
        has_settings=True, environment="production", linea=3, cod_sence="1237981234", codigo_curso="FT-2025-0001234",
        otec_name="OTEC Prueba", otec_rut="76123456-0", tokens=[GOOD_TOKEN], start_date=TODAY + timedelta(days=7),
        end_date=TODAY + timedelta(days=37), hours=20, participants=[("Ana Pérez", "12345678-5")],
        installation_env="production", simulator_url="http://127.0.0.1:5001/rce",
    )
    for name, value in changes.items():
        setattr(facts, name, value)
    return facts


def found(**changes) -> list[tuple[str, str, int | None]]:
    return [(p.area, p.message, p.code) for p in review(ready_facts(**changes), TODAY)]


def test_a_course_ready_for_day_one_has_no_problems():
    assert found() == []


@pytest.mark.parametrize(
    ("changes", "area", "text", "code"),
    [
        ({"environment": "test"}, "Ambiente", "no registra asistencia real", None),
        ({"environment": "simulator", "installation_env": "production"}, "Ambiente", "instalación está en producción",
         None),
        ({"otec_rut": None}, "OTEC y token", "No hay OTEC asignado", None),
        ({"otec_rut": "76123456-1"}, "OTEC y token", "RUT del OTEC no es válido", 209),
        ({"tokens": []}, "OTEC y token", "no tiene token SENCE", 200),
        ({"tokens": [TokenFacts(False, True)]}, "OTEC y token", "no es un UUID de 36 caracteres", 303),
        ({"tokens": [TokenFacts(True, False)]}, "OTEC y token", "no tiene un token activo y vigente", 212),
        ({"tokens": [TokenFacts(True, True, TODAY + timedelta(days=10))]}, "OTEC y token",
         "antes de que termine el curso", 212),
        ({"cod_sence": "123"}, "Códigos", "exactamente 10 caracteres", 204),
        ({"linea": 1}, "Códigos", "debe ir en blanco", 204),
        ({"codigo_curso": "FT-1"}, "Códigos", "entre 7 y 50 caracteres", 205),
        ({"codigo_curso": "-1"}, "Códigos", "-1 sólo se acepta en el ambiente de pruebas", 205),
        ({"linea": 2}, "Códigos", "debe ser 1, 3 o 6", 206),
        ({"return_url_problems": ["UrlRetoma tiene 120 caracteres"]}, "URL de retorno", "120 caracteres", 202),
        ({"start_date": None}, "Fechas", "no tiene fecha de inicio y de término", None),
        ({"end_date": TODAY + timedelta(days=1)}, "Fechas", "término es anterior a la de inicio", 309),
        ({"start_date": TODAY - timedelta(days=40), "end_date": TODAY - timedelta(days=1)}, "Fechas",
         "terminó el 02-03-2025", 309),
        ({"hours": 0}, "Fechas", "no tiene horas", None),
        ({"participants": []}, "Participantes", "no tiene participantes", None),
        ({"participants": [("Ana", "12345678-5"), ("Berta", None)]}, "Participantes", "Sin RUN: Berta", 200),
        ({"participants": [("Carla", "12345678-9")]}, "Participantes", "RUN no válido: Carla", 207),
        ({"login_required": False}, "Reglas", "no exige sesión SENCE", None),
    ],
)
def test_each_problem_is_found_with_what_to_fix(changes, area, text, code):
    [(got_area, message, got_code)] = found(**changes)
    assert (got_area, got_code) == (area, code)
    assert text in message


def test_placeholders_on_a_simulator_that_plays_production_are_flagged():
    problems = found(environment="simulator", installation_env="development", cod_sence="-1", codigo_curso="-1")
    assert ("Códigos", 204) in [(area, code) for area, _, code in problems]
    assert "termina en /rce" in " ".join(message for _, message, _ in problems)
    under_rcetest = found(environment="simulator", installation_env="development", cod_sence="-1",
                          codigo_curso="-1", simulator_url="http://127.0.0.1:5001/rcetest")
    assert [area for area, _, _ in under_rcetest] == ["Ambiente"]


def test_many_participants_without_run_are_counted_not_all_named():
    people = [(f"P{n:02d}", None) for n in range(8)]
    [(_, message, _)] = found(participants=people)
    assert "P00, P01, P02, P03, P04 y 3 más" in message


def test_a_course_without_settings_says_so():
    problems = review(CourseFacts(has_settings=False), TODAY)
    assert [p.message for p in problems] == ["El curso no tiene configuración SENCE."]


# --- Where the OTEC sees it --------------------------------------------------------------------


@pytest.fixture
def admin(client, db):
    user = make_user("admin")
    login(client, user)
    return user


def _ready_course(**sence):
    today = utcnow().astimezone(CHILE).date()
    course = sence_course(environment="production", **sence)
    course.start_date, course.end_date, course.hours = today + timedelta(days=3), today + timedelta(days=30), 16
    participant_in(course, full_name="Ana Pérez")
    return course


def test_the_course_list_shows_listo_or_the_number_of_problems(client, admin, db):
    ready = _ready_course()
    ready.title = "Curso listo"
    broken = sence_course(otec=make_otec(token=None, rut="77777777-7"), cod_sence="123", environment="test")
    broken.title = "Curso con problemas"
    participant_in(broken, run=None)
    db.session.commit()

    html = client.get("/admin/cursos").get_data(as_text=True)

    ready_row = html[html.index("Curso listo"):].split("</tr>")[0]
    broken_row = html[html.index("Curso con problemas"):].split("</tr>")[0]
    assert ">Listo</a>" in ready_row
    assert ">4 problemas</a>" in broken_row  # environment, token, CodSence, the participant without RUN


def test_the_sence_page_lists_every_problem(client, admin, db):
    course = sence_course(cod_sence="123", environment="test")
    participant_in(course, full_name="Berta Sin Run", run=None)

    html = client.get(f"/sence/cursos/{course.id}/configuracion").get_data(as_text=True)

    section = html[html.index('id="revisar"'):].split("</section>")[0]
    assert "Revisar antes de empezar" in section and "problemas" in section
    assert "Códigos:</strong> El código SENCE debe tener exactamente 10 caracteres." in section
    assert "Sin RUN: Berta Sin Run" in section
    assert "(SENCE respondería 204)" in section


def test_the_sence_page_says_listo_for_a_ready_course(client, admin, db):
    course = _ready_course()
    html = client.get(f"/sence/cursos/{course.id}/configuracion").get_data(as_text=True)
    section = html[html.index('id="revisar"'):].split("</section>")[0]
    assert ">Listo</span>" in section and "Pizarra no ve problemas" in section

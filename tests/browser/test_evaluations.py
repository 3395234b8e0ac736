"""An evaluation end to end in headless Chromium: an instructor builds it on a desktop; a participant with an
open SENCE session takes it on a 360-px phone, reloads mid-way without losing answers, submits and sees the grade;
the gradebook and its XLSX show it."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from app.courses import service as courses
from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.factories import PASSWORD, make_user, open_session
from tests.sence.builders import participant_in, sence_course

pytestmark = pytest.mark.browser


def _build_evaluation(page, live, course, lesson) -> None:
    page.goto(f"{live.url}/cursos/{course.id}/lecciones/gestionar")
    page.get_by_role("link", name="Nueva evaluación").click()
    page.get_by_label("Título").fill("Control de capitales")
    page.get_by_label("Ubicación en el curso").select_option(label=f"Después de «{lesson.title}»")
    page.get_by_role("button", name="Crear evaluación").click()
    expect(page.get_by_text("Agrega ahora sus preguntas")).to_be_visible()

    page.get_by_label("Tipo").select_option("single")
    page.get_by_label("Enunciado").fill("¿Cuál es la capital de Chile?")
    page.locator("#option-text-1").fill("Lima")
    page.locator("#option-text-2").fill("Santiago")
    page.locator("[name=option_correct_2]").check()
    page.get_by_role("button", name="Agregar pregunta").click()
    expect(page.get_by_text("Pregunta guardada.")).to_be_visible()

    page.get_by_label("Tipo").select_option("short")
    page.get_by_label("Enunciado").fill("¿Cuál es el principal puerto de Chile?")
    page.get_by_label("Respuesta esperada").fill("Valparaíso|Valpo")
    page.get_by_role("button", name="Agregar pregunta").click()
    expect(page.get_by_text("Preguntas (2)")).to_be_visible()

    page.get_by_label("Publicada (visible para los participantes)").check()
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(page.get_by_text("Evaluación guardada.")).to_be_visible()


def test_instructor_builds_participant_takes_on_a_phone_and_the_gradebook_shows_it(
        db, page, phone_page, live, shot):
    course = sence_course(environment="simulator")
    lesson = courses.add_lesson(course, "Geografía de Chile", "Regiones y ciudades.")
    teacher = make_user("instructor", full_name="Irene Instructora")
    course.instructors = [teacher]
    db.session.commit()
    ana = participant_in(course, full_name="Ana Pérez")
    open_session(ana, course)

    sign_in(page, live, teacher.email, PASSWORD)
    _build_evaluation(page, live, course, lesson)
    shot(page, "evaluation-editor-desktop")

    phone = phone_page
    sign_in(phone, live, ana.email, PASSWORD)
    phone.goto(f"{live.url}/cursos/{course.id}")
    shot(phone, "evaluation-in-player-phone")
    phone.locator(".lesson-list").get_by_role("link", name="Control de capitales").click()
    phone.get_by_role("button", name="Comenzar").click()

    expect(phone.get_by_text("Pregunta 1 de 2")).to_be_visible()
    phone.get_by_label("Santiago").check()
    expect(phone.locator("#save-state")).to_contain_text("Respuestas guardadas a las")
    shot(phone, "evaluation-question-phone")
    assert no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Siguiente →").click()

    phone.get_by_label("Tu respuesta").fill("valpo")
    expect(phone.locator("#save-state")).to_contain_text("Respuestas guardadas a las")
    phone.reload()  # mid-way: nothing is lost
    expect(phone.get_by_label("Tu respuesta")).to_have_value("valpo")
    phone.get_by_role("button", name="← Anterior").click()
    expect(phone.get_by_label("Santiago")).to_be_checked()
    phone.get_by_role("button", name="Siguiente →").click()
    phone.get_by_role("button", name="Revisar y enviar →").click()
    expect(phone.get_by_text("Respondiste 2 de 2 preguntas.")).to_be_visible()
    phone.get_by_role("button", name="Enviar evaluación").click()

    expect(phone.locator("#attempt-grade")).to_have_text("7,0")
    shot(phone, "evaluation-result-phone")
    assert no_horizontal_scroll(phone)
    phone.get_by_role("link", name="Mis calificaciones").click()
    expect(phone.locator("#final-grade")).to_have_text("7,0")
    shot(phone, "evaluation-my-grades-phone")
    assert no_horizontal_scroll(phone)

    page.goto(f"{live.url}/cursos/{course.id}/calificaciones")
    row = page.locator(f"tr[data-user='{ana.id}']")
    expect(row.locator("[data-col=final]")).to_have_text("7,0")
    shot(page, "evaluation-gradebook-desktop")
    xlsx = page.request.get(f"{live.url}/cursos/{course.id}/calificaciones.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.body())).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header = next(r for r in rows if r and r[0] == "Participante")
    record = dict(zip(header, rows[rows.index(header) + 1], strict=False))
    assert (record["Participante"], record["Control de capitales: nota"], record["Nota final"]) == ("Ana Pérez", 7.0,
                                                                                                    7.0)

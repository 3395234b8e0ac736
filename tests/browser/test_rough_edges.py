"""Issue 11 in real headless Chromium, desktop and phone: dashboard progress, Mi cuenta, instructors' reports,
the upload progress bar, "Quitar" confirmation, the Registro SENCE filters and the wide tables' scroll hint."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.courses import service as course_service
from app.extensions import db
from app.notify.service import enqueue
from app.timeutil import utcnow
from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.courses.helpers import PDF, lesson_with
from tests.factories import PASSWORD, enroll, make_course, make_user, open_session
from tests.notify.helpers import make_attempt

pytestmark = pytest.mark.browser
SIZES = ["page", "phone_page"]


def _course_with_progress():
    teacher = make_user("instructor", full_name="Irene Instructora", email="irene@otec.cl")
    course = make_course([teacher], title="Excel intermedio para equipos de administración", hours=24,
                         sence={"cod_sence": "1237894560", "codigo_curso": "FT-2025-0001234"})
    lessons = [lesson_with(course, title) for title in (
        "Introducción", "Tablas dinámicas para resumir grandes volúmenes de datos", "Funciones de búsqueda")]
    ana = make_user(full_name="Ana María Pérez Rojas", email="ana@otec.cl")
    enroll(course, ana)
    enroll(course, make_user(full_name="Bernardo Soto"))
    course_service.set_completed(ana, lessons[0], True)
    enrollment = course.enrollments[0]
    enrollment.last_lesson_id = lessons[1].id
    db.session.commit()
    return course, teacher, ana, lessons


@pytest.mark.parametrize("fixture", SIZES)
def test_the_dashboard_shows_progress_and_continues(request, fixture, live, shot):
    page = request.getfixturevalue(fixture)
    course, _, ana, lessons = _course_with_progress()
    open_session(ana, course)
    sign_in(page, live, "ana@otec.cl", PASSWORD)
    expect(page.get_by_text("1 de 3 lecciones completadas")).to_be_visible()
    expect(page.get_by_text("Última lección:")).to_be_visible()
    expect(page.get_by_text("24,0 h")).to_be_visible()
    expect(page.get_by_role("link", name="Mi cuenta")).to_be_visible()
    assert no_horizontal_scroll(page)
    shot(page, f"dashboard-progress-{fixture}")

    page.get_by_role("link", name="Continuar «Excel intermedio para equipos de administración»").click()
    current = page.locator(".lesson-list a[aria-current=page]")
    expect(current).to_contain_text("Tablas dinámicas")
    number, title = current.locator(".lesson-number"), current.locator(".lesson-title")
    assert abs(number.bounding_box()["y"] - title.bounding_box()["y"]) < 4  # number and title on one line
    shot(page, f"course-lesson-list-{fixture}")


@pytest.mark.parametrize("fixture", SIZES)
def test_mi_cuenta_changes_the_contact_details(request, fixture, live, shot):
    page = request.getfixturevalue(fixture)
    make_user(full_name="Ana Pérez", email="ana@otec.cl")
    sign_in(page, live, "ana@otec.cl", PASSWORD)
    page.get_by_role("link", name="Mi cuenta").click()
    page.get_by_label("Celular").fill("+56 9 8765 4321")
    page.get_by_label("Tu contraseña actual").fill("equivocada")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("La contraseña actual no es correcta.")).to_be_visible()
    page.get_by_label("Tu contraseña actual").fill(PASSWORD)
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Tus datos de contacto fueron guardados.")).to_be_visible()
    expect(page.get_by_label("Celular")).to_have_value("+56 9 8765 4321")
    assert no_horizontal_scroll(page)
    shot(page, f"account-{fixture}")


@pytest.mark.parametrize("fixture", SIZES)
def test_instructors_reach_their_reports_from_their_screens(request, fixture, live, shot):
    page = request.getfixturevalue(fixture)
    course, _, ana, _ = _course_with_progress()
    open_session(ana, course, started_minutes_ago=20)
    sign_in(page, live, "irene@otec.cl", PASSWORD)
    page.locator(".course-links").get_by_role("link", name="Avance").click()
    expect(page.get_by_role("heading", name="Avance en las lecciones (2 participantes)")).to_be_visible()
    expect(page.locator(f'tr[data-user="{ana.id}"] [data-col=done]')).to_have_text("1 de 3")
    assert no_horizontal_scroll(page)
    shot(page, f"instructor-progress-{fixture}")

    page.get_by_role("link", name="Ana María Pérez Rojas").click()
    expect(page.get_by_role("heading", name="Avance en las lecciones (1 de 3)")).to_be_visible()
    shot(page, f"instructor-participant-{fixture}")

    page.goto(f"{live.url}/cursos/{course.id}/lecciones/gestionar")
    page.locator("nav.tabs").get_by_role("link", name="En vivo").click()
    expect(page.get_by_text("Sesiones abiertas ahora (1)")).to_be_visible()
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text("En vivo")
    assert no_horizontal_scroll(page)
    shot(page, f"instructor-live-{fixture}")


@pytest.mark.parametrize("fixture", SIZES)
def test_an_upload_shows_progress_and_its_error_stays_beside_the_form(request, fixture, live, shot, tmp_path):
    page = request.getfixturevalue(fixture)
    course, _, _, lessons = _course_with_progress()
    sign_in(page, live, "irene@otec.cl", PASSWORD)
    editor_url = f"{live.url}/cursos/{course.id}/lecciones/{lessons[0].id}/editar"
    page.goto(editor_url)

    bad = tmp_path / "programa.exe"
    bad.write_bytes(b"MZ" + bytes(1000))
    page.get_by_label("Subir un archivo").set_input_files(str(bad))
    page.get_by_role("button", name="Subir", exact=True).click()
    expect(page.locator("#material-error")).to_contain_text("No se aceptan archivos .exe")
    assert page.url == editor_url
    shot(page, f"upload-error-{fixture}")

    good = tmp_path / "guia.pdf"
    good.write_bytes(PDF + bytes(8 * 1024 * 1024))  # 8 MB: the progress events have something to count
    page.evaluate("""document.addEventListener('htmx:xhr:progress', e => {
        if (e.detail.lengthComputable) sessionStorage.setItem('uploaded', e.detail.loaded / e.detail.total);
    })""")
    page.get_by_label("Nombre del material").fill("Guía 1: funciones de búsqueda")
    page.get_by_label("Subir un archivo").set_input_files(str(good))
    page.get_by_role("button", name="Subir", exact=True).click()
    expect(page.get_by_text("Archivo «Guía 1: funciones de búsqueda» subido.")).to_be_visible()
    assert page.evaluate("Number(sessionStorage.getItem('uploaded'))") == 1
    expect(page.locator("#upload-form .upload-progress")).to_be_hidden()
    assert no_horizontal_scroll(page)
    shot(page, f"upload-done-{fixture}")

    page.get_by_label("Cambiar nombre de «Guía 1: funciones de búsqueda»").click()
    page.locator("#material .edit-list").get_by_label("Nombre del material").fill("Guía 1")
    page.get_by_role("button", name="Guardar nombre").click()
    expect(page.get_by_text("Nombre del material: «Guía 1».")).to_be_visible()
    assert no_horizontal_scroll(page)


@pytest.mark.parametrize("fixture", SIZES)
def test_admin_lists_search_confirm_and_show_that_they_scroll(request, fixture, live, shot):
    page = request.getfixturevalue(fixture)
    course, _, ana, _ = _course_with_progress()
    make_attempt(ana, course, status="failed", error_codes="211", created_at=utcnow() - timedelta(hours=2))
    make_attempt(ana, course, status="succeeded", created_at=utcnow() - timedelta(days=2))
    make_user("admin", email="admin@otec.cl")
    sign_in(page, live, "admin@otec.cl", PASSWORD)

    page.goto(f"{live.url}/admin/cursos/{course.id}/participantes")
    page.get_by_placeholder("Buscar por nombre, RUN o correo").fill("bernardo")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_text("1 participante para «bernardo»")).to_be_visible()
    page.get_by_label("Quitar a Bernardo Soto").click()
    shot(page, f"enrollments-confirm-{fixture}")
    page.get_by_role("button", name="Sí, quitar a Bernardo Soto").click()
    expect(page.get_by_text("Bernardo Soto ya no está inscrito en el curso.")).to_be_visible()

    page.goto(f"{live.url}/sence/cursos/{course.id}/registro")
    page.get_by_label("Resultado").select_option("fallido")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.get_by_role("heading", name="Intentos (1)")).to_be_visible()
    assert re.search(r"resultado=fallido", page.url)
    assert no_horizontal_scroll(page)
    if fixture == "phone_page":  # the wide tables say they scroll, and can be scrolled from the keyboard
        wrap = page.locator("#intentos .table-wrap")
        expect(wrap).to_have_class(re.compile(r"\bscrolls\b"))
        assert wrap.get_attribute("tabindex") == "0"
    shot(page, f"sence-log-filtered-{fixture}")

    page.goto(f"{live.url}/admin/usuarios?q=ana")
    expect(page.get_by_text("1 usuario para «ana»")).to_be_visible()
    assert no_horizontal_scroll(page)
    shot(page, f"users-search-{fixture}")

    enqueue("alert", ["coordinacion.academica@otec-ejemplo.cl", "alertas@otec.cl"], "Falla SENCE: Ana", "Código 211")
    db.session.commit()
    page.goto(f"{live.url}/admin/correos/")
    address = page.locator("td.addresses span").first
    expect(address).to_have_text("coordinacion.academica@otec-ejemplo.cl")
    expect(page.get_by_text("sin servidor de correo no se enviará")).to_be_visible()
    assert no_horizontal_scroll(page)
    shot(page, f"outbox-{fixture}")

"""Ley 21.719 end to end in Chromium: notice, "Mis datos" download, a suppression request processed by the admin."""

import json
import zipfile

import pytest

from tests.browser.conftest import no_horizontal_scroll, sign_in
from tests.factories import PASSWORD, make_user
from tests.privacy.helpers import build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def gate(live):
    live.app.config["PRIVACY_NOTICE_GATE"] = True
    yield
    live.app.config["PRIVACY_NOTICE_GATE"] = False


def _sign_in_form(page, live, identifier):
    page.goto(f"{live.url}/ingresar")
    page.get_by_label("RUN o correo").fill(identifier)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()


def test_notice_download_suppression_request_processed_by_the_admin(page, live, shot, gate, db):
    world = build_world()
    course_id, title = world.course.id, world.course.title
    make_user("admin", email="admin@otec.cl", full_name="Carla Admin")

    _sign_in_form(page, live, world.ana.run)
    page.wait_for_url(f"{live.url}/privacidad?next=/")
    assert page.get_by_role("heading", name="Tus derechos").is_visible()
    shot(page, "privacy-notice-desktop")
    page.get_by_role("button", name="Leí el aviso de privacidad").click()
    page.wait_for_url(f"{live.url}/")
    assert page.get_by_role("link", name=title, exact=True).is_visible()

    page.get_by_role("link", name="Mis datos").first.click()
    assert page.get_by_role("heading", name="Mis datos").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar mis datos (ZIP)").click()
    archive = zipfile.ZipFile(download.value.path())
    data = json.loads(archive.read("datos.json"))
    assert data["perfil"][0]["nombre"] == "Ana Pérez Rojas"
    assert "Benito" not in archive.read("datos.json").decode()

    page.get_by_label("Tipo de solicitud").select_option(label="Supresión")
    page.get_by_label("Detalle").fill("Terminé el curso; borren mis datos.")
    page.get_by_role("button", name="Enviar solicitud").click()
    assert page.get_by_text("Solicitud de supresión recibida").is_visible()
    shot(page, "privacy-my-request-desktop")
    page.get_by_role("button", name="Salir").click()
    page.wait_for_url(f"{live.url}/ingresar")

    sign_in(page, live, "admin@otec.cl", PASSWORD)
    page.get_by_role("link", name="Privacidad", exact=True).first.click()
    page.get_by_role("link", name="Supresión").click()
    page.get_by_text("Ejecutar supresión").click()
    shot(page, "privacy-request-admin-desktop")
    page.get_by_role("button", name="Sí, suprimir los datos de esta persona").click()
    assert page.get_by_text("Datos suprimidos: la evidencia SENCE queda bajo seudónimo").is_visible()

    page.goto(f"{live.url}/reportes/cursos/{course_id}/asistencia")
    report = page.locator("main").inner_text()
    assert "Participante seudonimizado P-" in report and "Ana Pérez Rojas" not in report
    assert "Benito Soto Lagos" in report
    shot(page, "privacy-attendance-pseudonym-desktop")
    page.get_by_role("link", name="Privacidad", exact=True).first.click()
    page.get_by_role("link", name="Registro de accesos").click()
    trail = page.locator("main").inner_text()
    assert "Carla Admin" in trail and "Vio el detalle de un participante" in trail
    shot(page, "privacy-trail-desktop")
    page.get_by_role("link", name="Aviso y plazos").click()
    assert page.get_by_label("Plazo para responder solicitudes (días corridos)").input_value() == "30"
    shot(page, "privacy-settings-desktop")
    page.get_by_role("button", name="Salir").click()

    _sign_in_form(page, live, "ana.perez@correo.cl")
    assert page.get_by_role("alert").inner_text() == "RUN, correo o contraseña incorrectos."


def test_notice_and_mis_datos_fit_a_phone(phone_page, live, shot, gate, db):
    world = build_world()
    _sign_in_form(phone_page, live, world.benito.email)
    phone_page.wait_for_url(f"{live.url}/privacidad?next=/")
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "privacy-notice-phone")
    phone_page.get_by_role("button", name="Leí el aviso de privacidad").click()
    phone_page.goto(f"{live.url}/mis-datos")
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "privacy-my-data-phone")

"""Materials have titles; CSV data files are accepted and only ever downloaded; htmx uploads keep the page
(issue 11, item 7)."""

import io

import pytest
from sqlalchemy import select

from app.courses.models import Material
from tests.courses.helpers import PDF, lesson_with
from tests.factories import enroll, login, make_course, make_user, open_session

CSV = "RUN;Nombre;Ventas\r\n11111111-1;Ana Pérez;1.234,5\r\n".encode("utf-8-sig")


@pytest.fixture
def editor(client):
    instructor = make_user("instructor")
    course = make_course(instructors=[instructor])
    lesson = lesson_with(course, "Datos para practicar")
    login(client, instructor)
    return course, lesson


def _upload(client, course, lesson, name, content, title="", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/material", headers=headers,
                       data={"file": (io.BytesIO(content), name), "title": title}, content_type="multipart/form-data")


def _materials(db):
    db.session.expire_all()
    return db.session.execute(select(Material)).scalars().all()


def test_a_material_has_the_title_participants_read(client, db, editor):
    course, lesson = editor
    _upload(client, course, lesson, "guia1.pdf", PDF, title="  Guía 1:   funciones de búsqueda ")
    [material] = _materials(db)
    assert material.title == "Guía 1: funciones de búsqueda"
    editor_page = client.get(f"/cursos/{course.id}/lecciones/{lesson.id}/editar").get_data(as_text=True)
    assert "Guía 1: funciones de búsqueda</a>" in editor_page and "guia1.pdf" in editor_page
    participant = make_user()
    enroll(course, participant)
    open_session(participant, course)
    client.post("/salir")
    login(client, participant)
    player = client.get(f"/cursos/{course.id}/lecciones/{lesson.id}").get_data(as_text=True)
    assert '<h3 class="material-title">Guía 1: funciones de búsqueda</h3>' in player
    assert "Abrir «Guía 1: funciones de búsqueda» (PDF" in player


def test_without_a_title_the_file_name_is_shown(client, db, editor):
    course, lesson = editor
    _upload(client, course, lesson, "guia1.pdf", PDF)
    [material] = _materials(db)
    assert material.title == "" and material.display_title == "guia1.pdf"


def test_a_csv_is_accepted_and_served_only_as_a_download(client, db, editor):
    course, lesson = editor
    assert _upload(client, course, lesson, "ventas.csv", CSV, title="Ventas 2025").status_code == 303
    [material] = _materials(db)
    assert (material.kind, material.content_type) == ("data", "text/csv")
    response = client.get(f"/cursos/{course.id}/material/{material.id}")
    assert response.data == CSV
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name, content", [
    ("pagina.csv", b"<!DOCTYPE html><script>alert(1)</script>"),
    ("binario.csv", b"RUN;Nombre\x00\x01\x02"),
    ("vacio.csv", b""),
])
def test_a_csv_that_is_not_plain_text_is_refused(client, db, editor, name, content):
    course, lesson = editor
    response = _upload(client, course, lesson, name, content)
    assert response.status_code == 422 and _materials(db) == []


def test_an_htmx_upload_error_comes_back_beside_the_form(client, db, editor):
    course, lesson = editor
    response = _upload(client, course, lesson, "script.exe", b"MZ\x90\x00", title="Mi título", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html
    assert html.lstrip().startswith("<form") and 'id="upload-form"' in html
    assert "No se aceptan archivos .exe" in html and 'value="Mi título"' in html
    assert _materials(db) == []


def test_an_htmx_upload_success_reloads_the_editor(client, db, editor):
    course, lesson = editor
    response = _upload(client, course, lesson, "guia.pdf", PDF, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Refresh"] == "true"
    assert len(_materials(db)) == 1


def test_a_too_big_htmx_upload_gets_the_form_with_the_limit(client, app, db, editor):
    course, lesson = editor
    app.config["MAX_CONTENT_LENGTH"] = 2048
    try:
        response = _upload(client, course, lesson, "grande.pdf", PDF + bytes(4096), htmx=True)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 1024 * 1024
    assert response.status_code == 413
    assert 'id="upload-form"' in response.get_data(as_text=True) and "supera el tamaño máximo" in response.get_data(
        as_text=True)


def test_a_material_title_can_be_changed_or_cleared(client, db, editor):
    course, lesson = editor
    _upload(client, course, lesson, "guia1.pdf", PDF)
    [material] = _materials(db)
    url = f"/cursos/{course.id}/material/{material.id}/nombre"
    page = client.post(url, data={"title": "Guía 1"}, follow_redirects=True).get_data(as_text=True)
    assert "Nombre del material: «Guía 1»." in page
    assert _materials(db)[0].title == "Guía 1"
    client.post(url, data={"title": "  "})
    assert _materials(db)[0].display_title == "guia1.pdf"
    client.post("/salir")
    login(client, make_user("instructor"))
    assert client.post(url, data={"title": "Ajeno"}).status_code == 403
    assert _materials(db)[0].title == ""

"""Uploading material: refusals by size, by content and by name tricks; what is stored and where."""

import io
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from app.courses.models import Material
from app.courses.uploads import display_name
from tests.courses.helpers import OLE, PDF, PNG, WEBM, docx_bytes, lesson_with, zip_bytes
from tests.factories import login, make_course, make_user


@pytest.fixture
def editor(client, db):
    instructor = make_user("instructor")
    course = make_course(instructors=[instructor])
    lesson = lesson_with(course, "Lección con archivos")
    login(client, instructor)
    return course, lesson


def _upload(client, course, lesson, name: str, content: bytes):
    return client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/material",
                       data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _stored(db) -> list[Material]:
    db.session.expire_all()
    return db.session.execute(select(Material).order_by(Material.id)).scalars().all()


def _files(app) -> list[str]:
    return sorted(os.listdir(app.config["UPLOAD_DIR"]))


@pytest.mark.parametrize("name, content, kind, content_type", [
    ("guía.pdf", PDF, "pdf", "application/pdf"),
    ("clase.webm", WEBM, "video", "video/webm"),
    ("foto.PNG", PNG, "image", "image/png"),
    ("informe.docx", docx_bytes(), "office", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("planilla.xlsx", zip_bytes(**{"xl/workbook.xml": "<w/>"}), "office",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("antiguo.doc", OLE, "office", "application/msword"),
    ("ejercicios.zip", zip_bytes(), "zip", "application/zip"),
])
def test_allowed_files_are_stored_under_a_generated_name(client, db, app, editor, name, content, kind, content_type):
    course, lesson = editor
    response = _upload(client, course, lesson, name, content)

    assert response.status_code == 303
    [material] = _stored(db)
    assert (material.original_name, material.kind, material.content_type) == (name, kind, content_type)
    assert material.size == len(content)
    assert material.stored_name != name and name.rsplit(".", 1)[0] not in material.stored_name
    assert (Path(app.config["UPLOAD_DIR"]) / material.stored_name).read_bytes() == content
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Archivo «{name}» subido." in page


@pytest.mark.parametrize("name, content, message", [
    ("malware.pdf", b"MZ\x90\x00" + bytes(100), "no corresponde a un archivo .pdf válido"),
    ("pagina.pdf", b"<html><script>alert(1)</script></html>", "no corresponde a un archivo .pdf válido"),
    ("video.mp4", PDF, "no corresponde a un archivo .mp4 válido"),
    ("foto.png", zip_bytes(), "no corresponde a un archivo .png válido"),
    ("pagina.html", b"<html><script>alert(1)</script></html>", "No se aceptan archivos .html"),
    ("dibujo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
     "No se aceptan archivos .svg"),
    ("guia.pdf.html", PDF, "No se aceptan archivos .html"),
    ("sinextension", PDF, "debe tener un nombre con extensión"),
    ("", PDF, "Elige un archivo para subir"),
])
def test_wrong_types_are_refused_beside_the_form_and_nothing_is_stored(client, db, app, editor, name, content,
                                                                      message):
    course, lesson = editor
    before = _files(app)

    response = _upload(client, course, lesson, name, content)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="material-error" role="alert"' in html
    assert _stored(db) == [] and _files(app) == before


@pytest.mark.parametrize("raw", [
    "../../../../etc/cron.d/evil.pdf",
    "..\\..\\windows\\system32\\evil.pdf",
    "C:\\Users\\ana\\Escritorio\\evil.pdf",
    "/absolute/path/evil.pdf",
    "..evil.pdf",
])
def test_path_tricks_in_the_name_never_choose_where_the_file_goes(client, db, app, editor, raw):
    course, lesson = editor
    before = set(_files(app))
    response = _upload(client, course, lesson, raw, PDF)

    assert response.status_code == 303
    [material] = _stored(db)
    assert material.original_name.endswith("evil.pdf") and not material.original_name.startswith(".")
    assert "/" not in material.original_name and "\\" not in material.original_name
    assert set(_files(app)) - before == {material.stored_name}
    assert (Path(app.config["UPLOAD_DIR"]) / material.stored_name).read_bytes() == PDF
    assert "/" not in material.stored_name and ".." not in material.stored_name and "evil" not in material.stored_name


@pytest.mark.parametrize("raw, shown", [
    ("../../../../etc/cron.d/evil.pdf", "evil.pdf"),
    ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
    ("C:\\Users\\ana\\Escritorio\\Guía final.pdf", "Guía final.pdf"),
    ("guia\x00.exe.pdf", "guia.exe.pdf"),
    ("..pdf.pdf", "pdf.pdf"),
    ("../..", ""),
])
def test_the_display_name_is_the_last_segment_of_either_kind_of_path(raw, shown):
    assert display_name(raw) == shown


def test_display_names_drop_control_characters_and_stay_short():
    assert display_name("a\r\nb\t.pdf") == "ab.pdf"
    long = display_name("x" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


def test_a_body_over_the_limit_gets_413_with_a_clear_message_beside_the_form(client, db, app, editor):
    course, lesson = editor
    app.config.update(MAX_UPLOAD_MB=1, MAX_CONTENT_LENGTH=1024 * 1024)
    try:
        response = _upload(client, course, lesson, "grande.pdf", PDF + bytes(1024 * 1024))
    finally:
        app.config.update(MAX_UPLOAD_MB=200, MAX_CONTENT_LENGTH=201 * 1024 * 1024)

    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "El archivo supera el tamaño máximo de 1 MB" in html
    assert 'id="material-error" role="alert"' in html and 'type="file"' in html  # the form is right there
    assert _stored(db) == []


def test_a_file_over_the_limit_within_the_body_slack_is_refused_too(client, db, app, editor):
    course, lesson = editor
    app.config.update(MAX_UPLOAD_MB=1)  # MAX_CONTENT_LENGTH keeps its 1 MB of slack for the form fields
    try:
        before = _files(app)
        response = _upload(client, course, lesson, "grande.pdf", PDF + bytes(1024 * 1024))
    finally:
        app.config.update(MAX_UPLOAD_MB=200)

    assert response.status_code == 422
    assert "El archivo supera el tamaño máximo de 1 MB" in response.get_data(as_text=True)
    assert _stored(db) == [] and _files(app) == before  # no partial file left behind


def test_the_413_page_keeps_the_csrf_check_order(client, db, app, editor, csrf_on):
    """With CSRF on, the token check reads the body first and trips the limit: still the form and the message."""
    course, lesson = editor
    app.config.update(MAX_UPLOAD_MB=1, MAX_CONTENT_LENGTH=1024 * 1024)
    try:
        response = _upload(client, course, lesson, "grande.pdf", PDF + bytes(1024 * 1024))
    finally:
        app.config.update(MAX_UPLOAD_MB=200, MAX_CONTENT_LENGTH=201 * 1024 * 1024)
    assert response.status_code == 413
    assert "El archivo supera el tamaño máximo de 1 MB" in response.get_data(as_text=True)


def test_the_form_tells_the_limit_and_accepted_types(client, db, editor):
    course, lesson = editor
    html = client.get(f"/cursos/{course.id}/lecciones/{lesson.id}/editar").get_data(as_text=True)
    assert "Máximo 200 MB" in html and 'accept=".pdf,.mp4,' in html
    assert f'data-max-bytes="{200 * 1024 * 1024}"' in html

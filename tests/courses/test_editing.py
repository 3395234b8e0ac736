"""Instructors build their own courses' lessons; admins any course; nobody else."""

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from app.courses.models import Lesson, Material
from tests.courses.helpers import PDF, PNG, lesson_with, upload
from tests.factories import enroll, login, make_course, make_user


@pytest.fixture
def own_course(client, db):
    instructor = make_user("instructor")
    course = make_course(instructors=[instructor])
    login(client, instructor)
    return course


def _titles(db, course) -> list[str]:
    db.session.expire_all()
    return [lesson.title for lesson in db.session.get(type(course), course.id).lessons]


def test_an_instructor_creates_a_lesson_and_edits_it(client, db, own_course):
    course = own_course
    response = client.post(f"/cursos/{course.id}/lecciones/gestionar",
                           data={"title": "  Tablas   dinámicas ", "body": "**Paso 1**"})
    lesson = db.session.execute(select(Lesson)).scalar_one()
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/lecciones/{lesson.id}/editar")
    assert (lesson.title, lesson.body, lesson.position) == ("Tablas dinámicas", "**Paso 1**", 1)

    client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/editar", data={"title": "Tablas", "body": "Nuevo"})
    db.session.expire_all()
    assert (lesson.title, lesson.body) == ("Tablas", "Nuevo")
    page = client.get(f"/cursos/{course.id}/lecciones/gestionar").get_data(as_text=True)
    assert "Tablas" in page and "0 archivos" in page


def test_a_lesson_without_title_is_refused_with_a_message(client, db, own_course):
    response = client.post(f"/cursos/{own_course.id}/lecciones/gestionar", data={"title": "   ", "body": "texto"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Escribe un título para la lección." in html
    assert ">texto</textarea>" in html  # what was typed is kept
    assert db.session.execute(select(Lesson)).scalars().all() == []


def test_lessons_are_reordered_with_up_and_down(client, db, own_course):
    course = own_course
    first, second, third = (lesson_with(course, title) for title in ("Uno", "Dos", "Tres"))

    client.post(f"/cursos/{course.id}/lecciones/{third.id}/mover", data={"direction": "up"})
    assert _titles(db, course) == ["Uno", "Tres", "Dos"]
    client.post(f"/cursos/{course.id}/lecciones/{first.id}/mover", data={"direction": "down"})
    assert _titles(db, course) == ["Tres", "Uno", "Dos"]
    client.post(f"/cursos/{course.id}/lecciones/{second.id}/mover", data={"direction": "down"})  # already last
    client.post(f"/cursos/{course.id}/lecciones/{second.id}/mover", data={"direction": "sideways"})
    assert _titles(db, course) == ["Tres", "Uno", "Dos"]


def test_deleting_a_lesson_deletes_its_files(client, db, app, own_course):
    course = own_course
    lesson = lesson_with(course, "Con archivos", files=[("a.pdf", PDF), ("b.png", PNG)])
    stored = [Path(app.config["UPLOAD_DIR"]) / m.stored_name for m in lesson.materials]
    assert all(path.exists() for path in stored)

    response = client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/eliminar")

    assert response.status_code == 303
    assert "Lección «Con archivos» eliminada" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.execute(select(Lesson)).scalars().all() == []
    assert db.session.execute(select(Material)).scalars().all() == []
    assert not any(path.exists() for path in stored)


def test_files_are_reordered_and_deleted(client, db, app, own_course):
    course = own_course
    lesson = lesson_with(course, "Archivos", files=[("a.pdf", PDF), ("b.png", PNG)])
    first, second = lesson.materials

    client.post(f"/cursos/{course.id}/material/{second.id}/mover", data={"direction": "up"})
    db.session.expire_all()
    assert [m.original_name for m in lesson.materials] == ["b.png", "a.pdf"]

    path = Path(app.config["UPLOAD_DIR"]) / first.stored_name
    client.post(f"/cursos/{course.id}/material/{first.id}/eliminar")
    db.session.expire_all()
    assert [m.original_name for m in lesson.materials] == ["b.png"] and not path.exists()


def test_the_course_tabs_link_to_the_lessons_page_by_name(client, db):
    login(client, make_user("admin"))
    course = make_course()
    html = client.get(f"/cursos/{course.id}/lecciones/gestionar").get_data(as_text=True)
    assert f'href="/cursos/{course.id}/lecciones/gestionar" aria-current="page">Lecciones</a>' in html


def test_nobody_else_touches_a_course(client, db, app):
    owner = make_user("instructor")
    course = make_course(instructors=[owner])
    lesson = lesson_with(course, "Ajena", files=[("a.pdf", PDF)])
    material = lesson.materials[0]
    participant = make_user("participant")
    enroll(course, participant)
    writes = [
        (f"/cursos/{course.id}/lecciones/gestionar", {"title": "Intrusa"}),
        (f"/cursos/{course.id}/lecciones/{lesson.id}/editar", {"title": "Cambiada"}),
        (f"/cursos/{course.id}/lecciones/{lesson.id}/mover", {"direction": "down"}),
        (f"/cursos/{course.id}/lecciones/{lesson.id}/vista-previa", {"body": "x"}),
        (f"/cursos/{course.id}/lecciones/{lesson.id}/material", {}),
        (f"/cursos/{course.id}/material/{material.id}/mover", {"direction": "up"}),
        (f"/cursos/{course.id}/material/{material.id}/eliminar", {}),
        (f"/cursos/{course.id}/lecciones/{lesson.id}/eliminar", {}),
    ]
    for user in (make_user("instructor"), participant):
        login(client, user)
        assert client.get(f"/cursos/{course.id}/lecciones/gestionar").status_code == 403
        assert client.get(f"/cursos/{course.id}/lecciones/{lesson.id}/editar").status_code == 403
        for url, data in writes:
            assert client.post(url, data=data).status_code == 403, url
        client.post("/salir", data={"anyway": "1"})
    for url, data in writes:
        response = client.post(url, data=data)
        assert response.status_code == 302 and "/ingresar" in response.headers["Location"]

    db.session.expire_all()
    assert [(lesson.title, len(lesson.materials)) for lesson in course.lessons] == [("Ajena", 1)]
    assert os.path.exists(Path(app.config["UPLOAD_DIR"]) / material.stored_name)


def test_an_admin_edits_any_course_and_unknown_ids_are_404(client, db):
    course = make_course()
    other_lesson = lesson_with(make_course(), "Otra")
    login(client, make_user("admin"))

    assert client.post(f"/cursos/{course.id}/lecciones/gestionar", data={"title": "De la OTEC"}).status_code == 303
    assert client.get("/cursos/9999/lecciones/gestionar").status_code == 404
    assert client.get(f"/cursos/{course.id}/lecciones/{other_lesson.id}/editar").status_code == 404
    assert client.post(f"/cursos/{course.id}/material/9999/eliminar").status_code == 404


def test_the_preview_renders_sanitized_markdown_without_layout(client, db, own_course):
    lesson = lesson_with(own_course, "Vista")
    response = client.post(f"/cursos/{own_course.id}/lecciones/{lesson.id}/vista-previa",
                           data={"body": "# Hola\n<script>alert(1)</script>\n[x](javascript:alert(1))"},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<h1>Hola</h1>" in html and "<script>" not in html and 'href="javascript' not in html
    assert "<html" not in html


def test_a_file_uploaded_through_the_service_has_the_next_position(db):
    lesson = lesson_with(make_course(), "Orden")
    upload(lesson, "a.pdf", PDF)
    upload(lesson, "b.png", PNG)
    assert [(m.original_name, m.position) for m in lesson.materials] == [("a.pdf", 1), ("b.png", 2)]

"""The lesson editor says when the text points to images on other sites, which the CSP blocks (issue 11, item 8)."""

from app.courses.content import external_images, render_markdown
from tests.courses.helpers import PNG, lesson_with, upload
from tests.factories import login, make_course, make_user

BODY = "Mira:\n\n![gráfico](https://imgur.com/a.png) y ![propia](/cursos/1/material/2) ![otra](//cdn.x.cl/b.png)"


def test_only_images_on_other_sites_are_reported():
    assert external_images(BODY) == ["https://imgur.com/a.png", "//cdn.x.cl/b.png"]
    assert external_images("sin imágenes, [un enlace](https://sence.cl)") == []


def test_the_preview_and_the_editor_warn_about_them(client):
    teacher = make_user("instructor")
    course = make_course([teacher])
    lesson = lesson_with(course, "Gráficos", body=BODY)
    login(client, teacher)
    preview = client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/vista-previa", data={"body": BODY})
    html = preview.get_data(as_text=True)
    assert "Estas imágenes vienen de otro sitio y no se mostrarán" in html and "https://imgur.com/a.png" in html
    editor = client.get(f"/cursos/{course.id}/lecciones/{lesson.id}/editar").get_data(as_text=True)
    assert "Estas imágenes vienen de otro sitio" in editor
    clean = client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/vista-previa", data={"body": "Hola"})
    assert "otro sitio" not in clean.get_data(as_text=True)


def test_an_uploaded_image_offers_the_line_to_show_it_in_the_text(client):
    teacher = make_user("instructor")
    course = make_course([teacher])
    lesson = lesson_with(course, "Gráficos")
    image = upload(lesson, "grafico.png", PNG)
    login(client, teacher)
    editor = client.get(f"/cursos/{course.id}/lecciones/{lesson.id}/editar").get_data(as_text=True)
    line = f"![grafico.png](/cursos/{course.id}/material/{image.id})"
    assert f'<code class="ids">{line}</code>' in editor
    assert f'<img src="/cursos/{course.id}/material/{image.id}" alt="grafico.png">' in render_markdown(line)

"""The course player: the SENCE gate on the server, lessons and files as a participant sees them, progress."""

from sqlalchemy import select

from app.courses.models import Enrollment, LessonProgress, Material
from tests.courses.helpers import (
    PDF,
    PNG,
    SECRET,
    WEBM,
    docx_bytes,
    gated_course,
    lesson_with,
    participant_signed_in,
)
from tests.factories import enroll, login, make_course, make_group, make_user, open_session

LOCKED = "Debes iniciar sesión SENCE para ver el contenido"


def _material(db, lesson, name=None) -> Material:
    return next(m for m in lesson.materials if name is None or m.original_name == name)


def test_without_a_session_the_course_page_shows_titles_blurred_and_inert_but_no_content(client, db):
    course, lesson = gated_course()
    participant_signed_in(client, course)

    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)

    assert LOCKED in html
    assert 'class="player player-locked"' in html and '<div class="player-layout" inert>' in html
    assert "Introducción" in html  # the lesson list, blurred
    assert SECRET not in html and "/material/" not in html


def test_direct_lesson_and_file_urls_are_refused_before_login(client, db):
    course, lesson = gated_course()
    participant_signed_in(client, course)
    material = _material(db, lesson)

    for url in (f"/cursos/{course.id}/lecciones/{lesson.id}", f"/cursos/{course.id}/material/{material.id}"):
        response = client.get(url)
        assert response.status_code == 403
        body = response.get_data(as_text=True)
        assert LOCKED in body and SECRET not in body and not body.startswith("%PDF")
        htmx = client.get(url, headers={"HX-Request": "true"})
        assert htmx.status_code == 403 and LOCKED in htmx.get_data(as_text=True)


def test_with_an_open_session_the_lesson_and_its_pdf_are_served(client, db):
    course, lesson = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course, started_minutes_ago=20)
    material = _material(db, lesson)

    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert SECRET in html and LOCKED not in html and " inert" not in html
    assert f'<iframe class="material-pdf" src="/cursos/{course.id}/material/{material.id}"' in html

    pdf = client.get(f"/cursos/{course.id}/material/{material.id}")
    assert pdf.status_code == 200 and pdf.data == PDF
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert "filename*=UTF-8''Gu%C3%ADa%201.pdf" in pdf.headers["Content-Disposition"]
    assert pdf.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert pdf.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_after_the_session_expires_lessons_and_files_are_refused_again(client, db):
    course, lesson = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course, started_minutes_ago=181, limit_minutes=180)

    assert client.get(f"/cursos/{course.id}/lecciones/{lesson.id}").status_code == 403
    assert client.get(f"/cursos/{course.id}/material/{_material(db, lesson).id}").status_code == 403
    assert LOCKED in client.get(f"/cursos/{course.id}").get_data(as_text=True)


def test_a_closed_session_does_not_open_the_content(client, db):
    course, lesson = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course, started_minutes_ago=30, status="closed")

    assert client.get(f"/cursos/{course.id}/lecciones/{lesson.id}").status_code == 403


def test_staff_exempt_groups_and_courses_without_sence_login_see_content_directly(client, db):
    course, lesson = gated_course()
    auditors = make_group(course, "Auditores")
    course.sence.exempt_group_ids = [auditors.id]
    db.session.commit()
    auditor = make_user("participant")
    enroll(course, auditor, auditors)
    instructor = make_user("instructor")
    course.instructors.append(instructor)
    db.session.commit()
    free = make_course(sence={"login_required": False})
    lesson_with(free, body="Curso libre de SENCE")
    reader = make_user("participant")
    enroll(free, reader)

    for user, target in ((auditor, course), (instructor, course), (make_user("admin"), course), (reader, free)):
        with client:
            login(client, user)
            html = client.get(f"/cursos/{target.id}").get_data(as_text=True)
            assert LOCKED not in html and "sence-timer" not in html
            assert (SECRET if target is course else "Curso libre de SENCE") in html
            client.post("/salir", data={"anyway": "1"})


def test_other_participants_and_signed_out_visitors_get_nothing(client, db):
    course, lesson = gated_course()
    material = _material(db, lesson)
    urls = (f"/cursos/{course.id}", f"/cursos/{course.id}/lecciones/{lesson.id}",
            f"/cursos/{course.id}/material/{material.id}")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/ingresar" in response.headers["Location"]

    stranger = make_user("participant")
    login(client, stranger)
    open_session(stranger, make_course(), started_minutes_ago=5)  # a session elsewhere opens nothing here
    for url in urls:
        assert client.get(url).status_code == 403


def test_unknown_lessons_and_files_and_those_of_another_course_are_404(client, db):
    course, lesson = gated_course()
    other, other_lesson = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course)

    assert client.get(f"/cursos/{course.id}/lecciones/99999").status_code == 404
    assert client.get(f"/cursos/{course.id}/lecciones/{other_lesson.id}").status_code == 404
    assert client.get(f"/cursos/{course.id}/material/{_material(db, other_lesson).id}").status_code == 404
    assert client.get(f"/cursos/{course.id}/material/99999").status_code == 404


def test_video_answers_range_requests_with_206_for_seeking(client, db):
    course, lesson = gated_course()
    video = lesson_with(course, "Video", files=[("clase.webm", WEBM)])
    user = participant_signed_in(client, course)
    open_session(user, course)
    material = _material(db, video)

    html = client.get(f"/cursos/{course.id}/lecciones/{video.id}").get_data(as_text=True)
    assert f'<video class="material-video" src="/cursos/{course.id}/material/{material.id}" controls' in html

    full = client.get(f"/cursos/{course.id}/material/{material.id}")
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    middle = client.get(f"/cursos/{course.id}/material/{material.id}", headers={"Range": "bytes=1000-1999"})
    assert middle.status_code == 206
    assert middle.headers["Content-Range"] == f"bytes 1000-1999/{len(WEBM)}"
    assert middle.data == WEBM[1000:2000]
    assert middle.headers["Content-Type"] == "video/webm"
    tail = client.get(f"/cursos/{course.id}/material/{material.id}", headers={"Range": f"bytes={len(WEBM) - 10}-"})
    assert tail.status_code == 206 and tail.data == WEBM[-10:]
    beyond = client.get(f"/cursos/{course.id}/material/{material.id}", headers={"Range": f"bytes={len(WEBM) + 5}-"})
    assert beyond.status_code == 416


def test_images_show_inline_and_office_files_download_never_as_html(client, db):
    course, _ = gated_course()
    lesson = lesson_with(course, "Archivos", files=[("grafico.png", PNG), ("ejercicio.docx", docx_bytes())])
    user = participant_signed_in(client, course)
    open_session(user, course)
    image, document = lesson.materials

    html = client.get(f"/cursos/{course.id}/lecciones/{lesson.id}").get_data(as_text=True)
    assert f'<img class="material-image" src="/cursos/{course.id}/material/{image.id}" alt="grafico.png"' in html
    assert "Descargar «ejercicio.docx»" in html

    png = client.get(f"/cursos/{course.id}/material/{image.id}")
    assert png.headers["Content-Type"] == "image/png" and png.headers["Content-Disposition"].startswith("inline")
    docx = client.get(f"/cursos/{course.id}/material/{document.id}")
    assert docx.headers["Content-Disposition"].startswith("attachment")
    assert docx.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument")
    for response in (png, docx):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "private" in response.headers["Cache-Control"]


def test_the_last_lesson_opened_is_where_the_participant_comes_back(client, db):
    course, first = gated_course()
    second = lesson_with(course, "Segunda lección", body="Texto de la segunda")
    user = participant_signed_in(client, course)
    open_session(user, course)

    client.get(f"/cursos/{course.id}/lecciones/{second.id}")
    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)

    assert "Texto de la segunda" in html and SECRET not in html
    assert db.session.execute(select(Enrollment.last_lesson_id).where(Enrollment.user_id == user.id)).scalar() \
        == second.id


def test_the_place_is_not_recorded_while_locked(client, db):
    course, first = gated_course()
    lesson_with(course, "Segunda lección")
    user = participant_signed_in(client, course)

    client.get(f"/cursos/{course.id}")

    assert db.session.execute(select(Enrollment.last_lesson_id).where(Enrollment.user_id == user.id)).scalar() is None


def test_marking_lessons_completed_shows_progress_and_can_be_undone(client, db):
    course, first = gated_course()
    second = lesson_with(course, "Segunda lección")
    user = participant_signed_in(client, course)
    open_session(user, course)
    url = f"/cursos/{course.id}/lecciones/{first.id}/completada"

    assert "0 de 2 lecciones completadas" in client.get(f"/cursos/{course.id}").get_data(as_text=True)
    response = client.post(url, data={"done": "1"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "1 de 2 lecciones completadas" in html and "Lección completada" in html
    assert "Marcar como no completada" in html
    client.post(url, data={"done": "1"})  # twice: still one row
    assert db.session.execute(select(LessonProgress.lesson_id)).scalars().all() == [first.id]

    client.post(url, data={"done": "0"})
    html = client.get(f"/cursos/{course.id}/lecciones/{first.id}").get_data(as_text=True)
    assert "0 de 2 lecciones completadas" in html and "Marcar como completada" in html
    assert second.id  # the second lesson stays untouched
    assert db.session.execute(select(LessonProgress)).scalars().all() == []


def test_marking_completed_needs_an_open_session_and_is_for_participants(client, db):
    course, lesson = gated_course()
    participant_signed_in(client, course)
    assert client.post(f"/cursos/{course.id}/lecciones/{lesson.id}/completada").status_code == 403
    assert db.session.execute(select(LessonProgress)).scalars().all() == []


def test_lesson_navigation_with_htmx_returns_only_the_content_area(client, db):
    course, first = gated_course()
    second = lesson_with(course, "Segunda lección", body="Texto de la segunda")
    user = participant_signed_in(client, course)
    open_session(user, course)

    response = client.get(f"/cursos/{course.id}/lecciones/{second.id}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and html.lstrip().startswith('<section id="player"')
    assert "Texto de la segunda" in html and "<title>" not in html
    assert f'href="/cursos/{course.id}/lecciones/{first.id}"' in html and "← Anterior" in html


def test_the_back_button_gets_the_whole_page_not_the_fragment(client, db):
    course, lesson = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course)

    html = client.get(f"/cursos/{course.id}/lecciones/{lesson.id}",
                      headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}).get_data(as_text=True)

    assert html.startswith("<!doctype html>") and SECRET in html
    assert 'hx-history="false"' in html  # gated content is never copied into htmx's localStorage cache


def test_deleting_a_completed_lesson_keeps_the_progress_right(client, db):
    course, first = gated_course()
    second = lesson_with(course, "Segunda lección")
    user = participant_signed_in(client, course)
    open_session(user, course)
    client.post(f"/cursos/{course.id}/lecciones/{first.id}/completada", data={"done": "1"})
    client.get(f"/cursos/{course.id}/lecciones/{first.id}")

    from app.courses import service

    service.delete_lesson(first)
    assert db.session.execute(select(LessonProgress)).scalars().all() == []
    assert db.session.execute(select(Enrollment.last_lesson_id)).scalar() is None

    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert "0 de 1 lecciones completadas" in html and second.title in html


def test_the_lesson_list_follows_the_place_the_progress_and_every_edit(client, db):
    """Its items are rendered once per worker and content version: the state and an edit still show at once."""
    course, first = gated_course()
    second = lesson_with(course, "Fórmulas <b>y</b> tablas")
    user = participant_signed_in(client, course)
    open_session(user, course)

    def item_of(html: str, lesson) -> str:
        start = html.index(f'href="/cursos/{course.id}/lecciones/{lesson.id}"')
        return html[start:html.index("</li>", start)]

    html = client.get(f"/cursos/{course.id}/lecciones/{second.id}").get_data(as_text=True)
    assert "2.</span> <span class=\"lesson-title\">Fórmulas &lt;b&gt;y&lt;/b&gt; tablas" in item_of(html, second)
    assert 'aria-current="page"' in item_of(html, second) and 'aria-current' not in item_of(html, first)
    assert "Completada" not in item_of(html, first)

    client.post(f"/cursos/{course.id}/lecciones/{first.id}/completada", data={"done": "1"})
    html = client.get(f"/cursos/{course.id}/lecciones/{second.id}").get_data(as_text=True)
    assert "Completada" in item_of(html, first) and "Completada" not in item_of(html, second)

    db.session.merge(second).title = "Tablas dinámicas"
    db.session.commit()
    html = client.get(f"/cursos/{course.id}/lecciones/{first.id}").get_data(as_text=True)
    assert "Tablas dinámicas" in item_of(html, second) and 'aria-current="page"' in item_of(html, first)

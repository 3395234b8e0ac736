"""Instructors see their own courses' attendance, live view and progress per participant (issue 11, item 6)."""


from tests.courses.helpers import lesson_with
from tests.factories import enroll, login, make_course, make_user, open_session


def _course_with_progress(client):
    teacher = make_user("instructor")
    course = make_course([teacher], title="Excel intermedio")
    first, second = lesson_with(course, "Fórmulas"), lesson_with(course, "Tablas dinámicas")
    ana, beto = make_user(full_name="Ana Pérez"), make_user(full_name="Beto Soto")
    for person in (ana, beto):
        enroll(course, person)
    login(client, ana)
    open_session(ana, course)
    client.post(f"/cursos/{course.id}/lecciones/{first.id}/completada", data={"done": "1"})
    client.get(f"/cursos/{course.id}/lecciones/{second.id}")
    client.post("/salir", data={"anyway": "1"})
    return teacher, course, ana, beto


def test_the_progress_page_lists_each_participant(client):
    teacher, course, ana, beto = _course_with_progress(client)
    login(client, teacher)
    page = client.get(f"/reportes/cursos/{course.id}/avance").get_data(as_text=True)
    assert "Avance en las lecciones (2 participantes)" in page
    ana_row = page.split(f'data-user="{ana.id}"')[1].split("</tr>")[0]
    assert '<span data-col="done">1 de 2</span>' in ana_row and "Tablas dinámicas" in ana_row
    beto_row = page.split(f'data-user="{beto.id}"')[1].split("</tr>")[0]
    assert '<span data-col="done">0 de 2</span>' in beto_row
    assert 'aria-current="page">Avance</a>' in page


def test_the_participant_detail_shows_each_lesson_and_its_state(client):
    teacher, course, ana, _ = _course_with_progress(client)
    login(client, teacher)
    page = client.get(f"/reportes/cursos/{course.id}/participantes/{ana.id}").get_data(as_text=True)
    assert "Avance en las lecciones (1 de 2)" in page
    assert "Fórmulas · <span class=\"badge ok\">Completada</span>" in page
    assert "Tablas dinámicas · <span class=\"badge\">Pendiente</span>" in page
    # the same word as Mi cuenta and Mis datos use for the mobile number
    assert "<dt>Celular</dt>" in page and "Móvil" not in page


def test_the_course_live_view_shows_only_that_course(client):
    teacher, course, ana, beto = _course_with_progress(client)
    other = make_course(title="Otro curso")
    stranger = make_user(full_name="Carla Ajena")
    enroll(other, stranger)
    open_session(stranger, other)
    open_session(beto, course, started_minutes_ago=10)
    login(client, teacher)
    page = client.get(f"/reportes/cursos/{course.id}/en-vivo").get_data(as_text=True)
    assert "Sesiones abiertas ahora (2)" in page and "Beto Soto" in page and "Carla Ajena" not in page
    assert "<th>Curso</th>" not in page  # one course: no column repeating its title
    fragment = client.get(f"/reportes/cursos/{course.id}/en-vivo", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert f'hx-get="/reportes/cursos/{course.id}/en-vivo"' in page


def test_instructor_course_screens_link_to_the_reports(client):
    teacher, course, _, _ = _course_with_progress(client)
    login(client, teacher)
    page = client.get(f"/cursos/{course.id}/lecciones/gestionar").get_data(as_text=True)
    for path in ("asistencia", "avance", "en-vivo"):
        assert f'href="/reportes/cursos/{course.id}/{path}"' in page
    assert 'aria-current="page">Lecciones</a>' in page


def test_other_instructors_are_refused(client):
    _, course, ana, _ = _course_with_progress(client)
    login(client, make_user("instructor"))
    for path in ("avance", "en-vivo", f"participantes/{ana.id}"):
        assert client.get(f"/reportes/cursos/{course.id}/{path}").status_code == 403

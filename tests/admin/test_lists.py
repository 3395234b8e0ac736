"""Users and participants lists: search and pagination; removing a participant asks first (issue 11, 10 and 12)."""

from app.courses.models import Enrollment
from app.extensions import db
from tests.factories import enroll, login, make_course, make_user


def _admin(client):
    login(client, make_user("admin", full_name="Zoe Administradora"))


def test_users_are_searched_by_name_run_or_email(client):
    ana = make_user(full_name="Ana Pérez", email="ana.perez@otec.cl", run="11111111-1")
    make_user(full_name="Beto Soto", email="beto@otec.cl")
    _admin(client)
    for text in ("pérez", "11.111.111", "ANA.PEREZ@"):
        page = client.get("/admin/usuarios", query_string={"q": text}).get_data(as_text=True)
        assert f'href="/admin/usuarios/{ana.id}">Ana Pérez</a>' in page and "Beto Soto" not in page
        assert "1 usuario para «" in page
    nobody = client.get("/admin/usuarios?q=nadie").get_data(as_text=True)
    assert "Nadie coincide con «nadie»." in nobody


def test_the_users_list_is_paginated_and_keeps_role_and_search(client):
    for n in range(55):
        make_user(full_name=f"Participante {n:02d}")
    _admin(client)
    first = client.get("/admin/usuarios?rol=participant&q=Participante").get_data(as_text=True)
    assert "55 usuarios" in first and "Página 1 de 2" in first
    assert 'href="/admin/usuarios?rol=participant&amp;q=Participante&amp;pagina=2"' in first
    assert 'aria-current="page">Participantes</a>' in first
    second = client.get("/admin/usuarios?rol=participant&q=Participante&pagina=2").get_data(as_text=True)
    assert "Participante 54" in second and "Participante 00" not in second


def test_course_participants_are_searched_and_paginated(client):
    course = make_course()
    for n in range(52):
        enroll(course, make_user(full_name=f"Alumno {n:02d}"))
    enroll(course, make_user(full_name="Camila Díaz"))
    _admin(client)
    page = client.get(f"/admin/cursos/{course.id}/participantes").get_data(as_text=True)
    assert "Participantes inscritos (53)" in page and "Página 1 de 2" in page
    found = client.get(f"/admin/cursos/{course.id}/participantes?q=camila").get_data(as_text=True)
    assert "1 participante para «camila»" in found and "Alumno 00" not in found


def test_quitar_asks_before_removing(client):
    course = make_course()
    ana = make_user(full_name="Ana Pérez")
    enrollment = enroll(course, ana)
    _admin(client)
    page = client.get(f"/admin/cursos/{course.id}/participantes").get_data(as_text=True)
    assert '<details class="confirm">' in page and 'aria-label="Quitar a Ana Pérez">Quitar</summary>' in page
    assert "Sí, quitar a Ana Pérez" in page
    client.post(f"/admin/cursos/{course.id}/participantes/{enrollment.id}/quitar")
    assert db.session.get(Enrollment, enrollment.id) is None

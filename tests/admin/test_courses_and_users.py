from sqlalchemy import select

from app.auth.models import User
from app.courses.models import Course, Enrollment
from app.extensions import db
from tests.factories import enroll, login, make_course, make_group, make_user


def _admin(client):
    login(client, make_user("admin"))


def test_an_admin_creates_a_course_with_its_instructor_and_default_sence_settings(client):
    _admin(client)
    teacher = make_user("instructor", full_name="Irene")
    response = client.post("/admin/cursos/nuevo", data={
        "title": "Excel intermedio", "description": "Tablas", "instructors": [teacher.id],
        "start_date": "2026-12-01", "end_date": "2026-12-31", "hours": "24"})
    assert response.status_code == 302
    course = db.session.execute(select(Course)).scalar_one()
    assert course.title == "Excel intermedio" and course.instructors == [teacher]
    assert course.sence.environment == "simulator" and course.sence.session_limit_minutes == 180


def test_a_course_form_with_bad_dates_and_hours_says_so_and_stores_nothing(client):
    _admin(client)
    response = client.post("/admin/cursos/nuevo", data={
        "title": "", "start_date": "2026-12-31", "end_date": "2026-12-01", "hours": "muchas"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Este campo es obligatorio." in page
    assert "La fecha de término no puede ser anterior a la de inicio." in page
    assert db.session.execute(select(Course)).first() is None


def test_an_admin_edits_a_course(client):
    _admin(client)
    course = make_course(title="Viejo")
    client.post(f"/admin/cursos/{course.id}/editar", data={"title": "Nuevo", "hours": "10"})
    db.session.refresh(course)
    assert course.title == "Nuevo"


def test_enrolling_a_new_participant_by_run_creates_the_account(client):
    _admin(client)
    course = make_course()
    response = client.post(f"/admin/cursos/{course.id}/participantes", data={
        "enroll-run": "11.111.111-1", "enroll-full_name": "Ana Pérez", "enroll-password": "inicial-123",
        "enroll-group": "0"})
    assert response.status_code == 302
    ana = db.session.execute(select(User).where(User.run == "11111111-1")).scalar_one()
    assert ana.role == "participant" and ana.full_name == "Ana Pérez"
    assert "Ana Pérez" in client.get(f"/admin/cursos/{course.id}/participantes").get_data(as_text=True)


def test_enrolling_an_unknown_run_without_a_name_is_refused(client):
    _admin(client)
    course = make_course()
    response = client.post(f"/admin/cursos/{course.id}/participantes", data={
        "enroll-run": "11111111-1", "enroll-group": "0"})
    assert response.status_code == 422
    assert "escribe también el nombre completo" in response.get_data(as_text=True)
    assert db.session.execute(select(Enrollment)).first() is None


def test_enrolling_with_a_bad_run_shows_the_reason_next_to_the_field(client):
    _admin(client)
    course = make_course()
    response = client.post(f"/admin/cursos/{course.id}/participantes", data={
        "enroll-run": "11111111-2", "enroll-full_name": "X", "enroll-group": "0"})
    assert "el dígito verificador no corresponde" in response.get_data(as_text=True)


def test_participants_are_put_in_groups(client):
    _admin(client)
    course = make_course()
    ana = make_user()
    enrollment = enroll(course, ana)
    client.post(f"/admin/cursos/{course.id}/grupos", data={"group-name": "Auditores"})
    group = course.groups[0]
    client.post(f"/admin/cursos/{course.id}/participantes/{enrollment.id}/grupo", data={"group": str(group.id)})
    db.session.refresh(enrollment)
    assert enrollment.group.name == "Auditores"


def test_a_group_of_another_course_cannot_be_assigned(client):
    _admin(client)
    course, other = make_course(), make_course()
    foreign = make_group(other, "Ajeno")
    enrollment = enroll(course, make_user())
    response = client.post(f"/admin/cursos/{course.id}/participantes/{enrollment.id}/grupo",
                           data={"group": str(foreign.id)})
    assert response.status_code == 302
    db.session.refresh(enrollment)
    assert enrollment.group_id is None


def test_a_duplicate_group_name_is_refused(client):
    _admin(client)
    course = make_course()
    make_group(course, "Auditores")
    client.post(f"/admin/cursos/{course.id}/grupos", data={"group-name": "auditores"})
    page = client.get(f"/admin/cursos/{course.id}/participantes").get_data(as_text=True)
    assert "ya existe en este curso" in page


def test_an_admin_creates_an_instructor_who_can_then_sign_in(client):
    _admin(client)
    client.post("/admin/usuarios/nuevo", data={"role": "instructor", "full_name": "Irene", "email": "irene@otec.cl",
                                               "password": "clave-irene-1"})
    client.post("/salir")
    response = client.post("/ingresar", data={"identifier": "irene@otec.cl", "password": "clave-irene-1"})
    assert response.status_code == 302


def test_a_participant_without_run_or_a_duplicate_email_is_refused(client):
    _admin(client)
    make_user(email="ya@otec.cl")
    response = client.post("/admin/usuarios/nuevo", data={"role": "participant", "full_name": "Sin RUN",
                                                          "password": "clave-larga-1"})
    assert "Un participante debe tener RUN." in response.get_data(as_text=True)
    response = client.post("/admin/usuarios/nuevo", data={"role": "instructor", "full_name": "Otra",
                                                          "email": "ya@otec.cl", "password": "clave-larga-1"})
    assert "Ya existe un usuario con el correo ya@otec.cl." in response.get_data(as_text=True)


def test_deactivating_a_user_blocks_their_sign_in(client):
    _admin(client)
    ana = make_user(run="11111111-1")
    client.post(f"/admin/usuarios/{ana.id}", data={"full_name": ana.full_name, "run": ana.run, "email": ana.email})
    db.session.refresh(ana)
    assert ana.active is False


def test_malformed_ids_and_junk_posts_never_give_a_500(client):
    _admin(client)
    course = make_course()
    urls = ["/admin/cursos/abc/editar", "/admin/usuarios/999999", f"/admin/cursos/{course.id}/participantes/9/quitar"]
    for url in urls:
        response = client.post(url) if url.endswith("quitar") else client.get(url)
        assert response.status_code == 404, url
    response = client.post("/admin/cursos/nuevo", data={"hours": "1e999", "title": "x" * 5000})
    assert response.status_code == 422

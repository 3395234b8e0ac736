import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.courses.models import Enrollment
from app.extensions import db
from tests.factories import login, make_course, make_user

GOOD_ROWS = ("RUN;nombre;correo;teléfono;celular\n"
             "11.111.111-1;Ana Pérez;ana@demo.cl;222;999\n"
             "22222222-2;Benito Soto;;;\n")


@pytest.fixture
def admin_client(client):
    login(client, make_user("admin"))
    return client


def _import(client, course, content: bytes, filename="alumnos.csv", password="inicial-123"):
    from io import BytesIO

    return client.post(f"/admin/cursos/{course.id}/importar",
                       data={"import-file": (BytesIO(content), filename), "import-password": password},
                       content_type="multipart/form-data")


def _enrolled_runs(course):
    return set(db.session.execute(
        select(User.run).join(Enrollment).where(Enrollment.course_id == course.id)
    ).scalars())


@pytest.mark.parametrize("content", [
    GOOD_ROWS.encode(),
    ("\ufeff" + GOOD_ROWS).encode(),
    GOOD_ROWS.replace(";", ",").encode(),
    GOOD_ROWS.encode("cp1252"),
], ids=["semicolon", "bom", "comma", "ansi"])
def test_good_rows_are_imported_however_excel_saved_the_file(admin_client, content):
    course = make_course()
    response = _import(admin_client, course, content)
    assert "Se inscribieron 2 participantes" in response.get_data(as_text=True)
    assert _enrolled_runs(course) == {"11111111-1", "22222222-2"}
    ana = db.session.execute(select(User).where(User.run == "11111111-1")).scalar_one()
    assert (ana.full_name, ana.email, ana.phone, ana.mobile) == ("Ana Pérez", "ana@demo.cl", "222", "999")
    assert ana.check_password("inicial-123")


def test_bad_rows_are_listed_with_line_number_and_reason_and_good_ones_imported(admin_client):
    course = make_course()
    content = ("RUN;nombre;correo\n"
               "11.111.111-1;Ana Pérez;ana@demo.cl\n"
               "11.111.111-2;Dígito Malo;\n"
               "22222222-2;;\n"
               "11111111-1;Ana Repetida;\n"
               "33333333-3;Carla Díaz;no-es-correo\n").encode()
    page = _import(admin_client, course, content).get_data(as_text=True)
    assert _enrolled_runs(course) == {"11111111-1"}
    assert "Filas rechazadas (4)" in page
    for line, reason in [(3, "dígito verificador"), (4, "Falta el nombre"), (5, "repetido en el archivo"),
                         (6, "no es válido")]:
        assert f'<td class="num">{line}</td>' in page
        assert reason in page


def test_a_re_import_duplicates_nothing(admin_client):
    course = make_course()
    _import(admin_client, course, GOOD_ROWS.encode())
    page = _import(admin_client, course, GOOD_ROWS.encode()).get_data(as_text=True)
    assert "Se inscribieron 0 participantes" in page
    assert "2 ya estaban inscritos" in page
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == 3  # admin + 2
    assert db.session.execute(select(func.count()).select_from(Enrollment)).scalar() == 2


def test_existing_participants_are_matched_by_run_and_keep_their_data(admin_client):
    ana = make_user(run="11111111-1", full_name="Ana María Pérez", email="ana.maria@otec.cl", password="su-clave-1")
    course = make_course()
    _import(admin_client, course, GOOD_ROWS.encode())
    db.session.refresh(ana)
    assert ana.full_name == "Ana María Pérez" and ana.email == "ana.maria@otec.cl"
    assert ana.check_password("su-clave-1")
    assert _enrolled_runs(course) == {"11111111-1", "22222222-2"}


def test_a_staff_run_in_the_file_is_rejected(admin_client):
    make_user("instructor", run="11111111-1")
    course = make_course()
    page = _import(admin_client, course, GOOD_ROWS.encode()).get_data(as_text=True)
    assert "pertenece a un usuario del personal" in page
    assert _enrolled_runs(course) == {"22222222-2"}


@pytest.mark.parametrize("content, message", [
    (b"", "vacío"),
    (b"PK\x03\x04\x14\x00\x00\x00binary\x00\x00junk", "no es un CSV"),
    (b"solo una columna\notra fila\n", "No se reconocen columnas"),
])
def test_an_unreadable_file_imports_nothing_and_says_why(admin_client, content, message):
    course = make_course()
    response = _import(admin_client, course, content, filename="planilla.xlsx")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No se importó nada" in page and message in page
    assert _enrolled_runs(course) == set()


def test_the_import_needs_an_initial_password(admin_client):
    course = make_course()
    response = _import(admin_client, course, GOOD_ROWS.encode(), password="")
    assert response.status_code == 422
    assert _enrolled_runs(course) == set()

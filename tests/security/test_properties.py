"""Property tests: random fields, lengths and Unicode (NUL and right-to-left marks included) thrown at SENCE's
callbacks, the CSV import and the forms. Whatever arrives, the answer is never a 500, and an answer for an
attempt we do not know changes no attempt and no session.

The same database serves every example of a test (hypothesis runs them inside one pytest test), so the
assertions compare states before and after each example instead of absolute counts.
"""

import re
from io import BytesIO

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db as _db
from app.sence.models import Attempt, SenceSession
from tests.factories import login, make_course, make_user
from tests.sence.builders import sence_course, signed_in_participant, start, success_answer

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SENCE_FIELDS = ("CodSence", "CodigoCurso", "IdSesionAlumno", "IdSesionSence", "RunAlumno", "FechaHora",
                "ZonaHoraria", "LineaCapacitacion", "GlosaError")

# Any character a browser can post (lone surrogates cannot be encoded as UTF-8 at all).
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)
long_text = st.sampled_from(["9" * 101, "x" * 5_000, "ñ" * 20_000, "\x00" * 50, "1;" * 300])
field_value = st.one_of(any_text, long_text, st.sampled_from(["", "-1", "0", "11111111-1", "11.111.111-K",
                                                              "2026-13-45 99:99:99", "100;201;999", "NaN"]))
field_name = st.one_of(st.sampled_from(SENCE_FIELDS), any_text)
sence_answer = st.dictionaries(field_name, field_value, max_size=12)


def _state():
    """Everything a SENCE answer could change for attempts and sessions."""
    attempts = _db.session.execute(select(
        Attempt.id, Attempt.status, Attempt.session_id, Attempt.error_codes, Attempt.answered_at)).all()
    sessions = _db.session.execute(select(
        SenceSession.id, SenceSession.status, SenceSession.id_sesion_sence, SenceSession.closed_at)).all()
    _db.session.rollback()
    return sorted(attempts), sorted(sessions)


@pytest.fixture
def pending_attempt(app, db):
    """A participant who has just been sent to SENCE (an attempt waits for its answer) and has a session open."""
    client = app.test_client()
    course = sence_course()
    signed_in_participant(client, course)
    return start(client, course)


@PROPERTY_SETTINGS
@given(answer=sence_answer, endpoint=st.sampled_from(["/s/r", "/s/e"]))
@example(answer={"IdSesionAlumno": "\x00", "GlosaError": "100"}, endpoint="/s/e")
@example(answer={"IdSesionAlumno": "", "RunAlumno": "1" * 5_000}, endpoint="/s/r")
def test_answers_for_unknown_attempts_never_fail_and_change_nothing(app, pending_attempt, answer, endpoint):
    if answer.get("IdSesionAlumno") == pending_attempt["IdSesionAlumno"]:
        answer["IdSesionAlumno"] += "x"
    before = _state()

    response = app.test_client().post(endpoint, data=answer)

    assert response.status_code < 500
    assert "Set-Cookie" not in response.headers
    assert _state() == before


@PROPERTY_SETTINGS
@given(overrides=st.dictionaries(st.sampled_from(SENCE_FIELDS), field_value, max_size=9),
       endpoint=st.sampled_from(["/s/r", "/s/e"]))
@example(overrides={"GlosaError": "1;" * 300}, endpoint="/s/e")
@example(overrides={"FechaHora": "x" * 5_000, "ZonaHoraria": "ñ" * 20_000}, endpoint="/s/r")
@example(overrides={"IdSesionSence": "9" * 5_000}, endpoint="/s/r")
@example(overrides={"IdSesionSence": "\x00"}, endpoint="/s/r")
def test_garbled_answers_for_a_real_attempt_never_fail(app, pending_attempt, overrides, endpoint):
    answer = success_answer(pending_attempt)
    answer.update(overrides)

    response = app.test_client().post(endpoint, data=answer)

    assert response.status_code < 500
    assert "Set-Cookie" not in response.headers


csv_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=";,\r\n\""),
                   max_size=40)
csv_row = st.lists(st.one_of(csv_cell, st.sampled_from(["11.111.111-1", "22222222-2", "12345678-K", "1-9", "=1+1"])),
                   max_size=7)


@st.composite
def csv_files(draw):
    """Files as spreadsheets save them, and some as nothing saves them."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=3_000))
    separator = draw(st.sampled_from([";", ","]))
    lines = [separator.join(row) for row in draw(st.lists(csv_row, max_size=30))]
    if draw(st.booleans()):
        lines.insert(0, separator.join(["RUN", "nombre", "correo", "teléfono", "celular"]))
    text = "\r\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace")


@pytest.fixture
def admin_and_course(app, db):
    client = app.test_client()
    login(client, make_user("admin"))
    return client, make_course(title="Excel intermedio")


@PROPERTY_SETTINGS
@given(content=csv_files(), filename=st.sampled_from(["alumnos.csv", "alumnos.txt", "", "x" * 300 + ".csv"]))
@example(content=("RUN;nombre\n11.111.111-1;Ana" + "\x00" * 3 + "\n" + "x" * 5_000).encode(), filename="a.csv")
@example(content=b"RUN;nombre\n11.111.111-1;Ana", filename="a\x00.csv")
def test_any_csv_file_is_imported_or_refused_never_a_500(admin_and_course, content, filename):
    client, course = admin_and_course

    response = client.post(f"/admin/cursos/{course.id}/importar",
                           data={"import-file": (BytesIO(content), filename), "import-password": "inicial-123"},
                           content_type="multipart/form-data")

    assert response.status_code < 500
    runs = _db.session.execute(select(User.run).where(User.role == "participant")).scalars().all()
    _db.session.rollback()
    assert all(re.fullmatch(r"\d{1,8}-[\dK]", run) for run in runs), runs


FORMS = {
    "/ingresar": ("identifier", "password", "next"),
    "/clave": ("current", "new", "confirm"),
    "/admin/cursos/nuevo": ("title", "description", "instructors", "start_date", "end_date", "hours"),
    "/admin/usuarios/nuevo": ("role", "full_name", "run", "email", "phone", "mobile", "active", "password"),
    "/sence/otecs": ("name", "rut"),
    "/sence/cursos/{course}/configuracion": (
        "otec_id", "linea", "cod_sence", "codigo_curso", "environment", "confirm_production", "login_required",
        "session_limit_minutes", "modality", "connectivity_target", "alert_emails",
        "exempt_group_ids"),
    "/admin/cursos/{course}/participantes": ("run", "full_name", "email", "phone", "mobile", "password", "group"),
    "/admin/cursos/{course}/grupos": ("name",),
    "/cursos/{course}/lecciones/gestionar": ("title", "body"),
}


@PROPERTY_SETTINGS
@given(path=st.sampled_from(sorted(FORMS)), data=st.data())
@example(path="/cursos/{course}/lecciones/gestionar", data=None)
def test_forms_answer_random_input_with_a_page_never_a_500(admin_and_course, path, data):
    client, course = admin_and_course
    names = FORMS[path]
    fields = (data.draw(st.dictionaries(st.one_of(st.sampled_from(names), any_text), field_value, max_size=10))
              if data else {"title": "\x00", "body": "x"})

    response = client.post(path.format(course=course.id), data=fields)

    assert response.status_code < 500
    assert response.status_code in (200, 302, 303, 400, 403, 404, 413, 422, 429)  # 413: over the body limit


def test_a_nul_character_gets_a_clear_message_and_changes_nothing(client, db):
    response = client.post("/ingresar", data={"identifier": "ana@demo.cl\x00", "password": "demo1234"})

    assert response.status_code == 400
    assert "carácter nulo" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers

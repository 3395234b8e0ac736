import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.timeutil import utcnow
from tests.factories import enroll, login, make_course, make_user
from tests.notify.helpers import make_attempt, open_session

DAY_AGO = utcnow() - timedelta(days=1)
SENCE = {"cod_sence": "1237894560", "codigo_curso": "FT-2025-0001234", "linea": 3, "environment": "simulator",
         "connectivity_target": 40}


@pytest.fixture
def course_with_history():
    course = make_course(title="Excel intermedio", hours=8, sence=SENCE)
    ana = make_user(full_name="Ana Pérez", run="11111111-1")
    evil = make_user(full_name='=HYPERLINK("http://malo.cl","clic")', run="22222222-2", phone="+56 9 1111 1111")
    for user in (ana, evil):
        enroll(course, user)
    open_session(ana, course, started_at=DAY_AGO, status="closed", closed_at=DAY_AGO + timedelta(hours=2, minutes=30))
    open_session(ana, course, started_at=DAY_AGO - timedelta(days=1), status="closed",
                 closed_at=DAY_AGO - timedelta(days=1) + timedelta(hours=1))
    open_session(evil, course, started_at=utcnow() - timedelta(minutes=30), status="open")
    make_attempt(evil, course, status="failed", error_codes="211", created_at=DAY_AGO - timedelta(hours=1))
    return course, ana, evil


def _admin(client):
    login(client, make_user("admin"))


def _page_numbers(html: str, user_id: int) -> dict[str, str]:
    row = re.search(rf'<tr data-user="{user_id}">(.*?)</tr>', html, re.S).group(1)
    return dict(re.findall(r'data-col="(\w+)">([^<]*)<', row))


def _number(text: str) -> float:
    return float(text.replace("%", "").replace(".", "").replace(",", ".").strip())


def test_the_report_shows_codes_numbers_and_a_chart_against_the_target(client, course_with_history):
    course, ana, evil = course_with_history
    _admin(client)
    html = client.get(f"/reportes/cursos/{course.id}/asistencia").get_data(as_text=True)
    assert "1237894560" in html and "FT-2025-0001234" in html and "Simulador" in html
    assert _page_numbers(html, ana.id) == {"sessions": "2", "hours": "3,50", "connectivity": "43,8 %",
                                           "expired": "0", "failed": "0"}
    assert _page_numbers(html, evil.id)["failed"] == "1"
    assert "Cumple" in html and "No cumple" in html and "sesión abierta" in html
    assert '<svg class="chart"' in html and 'class="chart-target"' in html and "43,8 %" in html
    assert "&lt;script" not in html and "HYPERLINK" in html


def test_the_drill_down_lists_sessions_and_failed_attempts(client, course_with_history):
    course, ana, evil = course_with_history
    _admin(client)
    html = client.get(f"/reportes/cursos/{course.id}/participantes/{evil.id}").get_data(as_text=True)
    assert "Abierta" in html and "SENCE-" in html and "+56 9 1111 1111" in html
    assert "<strong>211</strong> Token no pertenece al OTEC" in html
    ana_html = client.get(f"/reportes/cursos/{course.id}/participantes/{ana.id}").get_data(as_text=True)
    assert ana_html.count("Cerrada a tiempo") == 2 and "2,50 h" in ana_html


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_neutralizes_formulas_and_carries_the_sence_codes(client, course_with_history):
    course, ana, evil = course_with_history
    _admin(client)
    response = client.get(f"/reportes/cursos/{course.id}/asistencia.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response.data)
    assert ["Código SENCE", "1237894560"] in rows and ["Código curso (ID acción)", "FT-2025-0001234"] in rows
    names = {row[0]: row for row in rows if len(row) > 4}
    assert '\'=HYPERLINK("http://malo.cl","clic")' in names
    assert '=HYPERLINK("http://malo.cl","clic")' not in names
    assert names["Ana Pérez"][4:8] == ["2", "3,5", "43,8", "40"]


@pytest.mark.parametrize("text", ["=1+1", "+56 9", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_escaped(text):
    from app.reports.exports import neutralize

    assert neutralize(text) == "'" + text
    assert neutralize("Ana") == "Ana"


def test_the_session_list_csv(client, course_with_history):
    course, ana, evil = course_with_history
    _admin(client)
    rows = _csv_rows(client.get(f"/reportes/cursos/{course.id}/sesiones.csv").data)
    header = rows.index(["Participante", "RUN", "Inicio", "Término", "FechaHora SENCE inicio",
                         "FechaHora SENCE término", "ZonaHoraria SENCE", "Duración (h)", "Estado", "IdSesionSence",
                         "Ambiente", "Alertas SENCE"])
    sessions = rows[header + 1:]
    assert len(sessions) == 3
    assert sorted(r[8] for r in sessions) == ["Abierta", "Cerrada a tiempo", "Cerrada a tiempo"]
    assert all(r[9].startswith("SENCE-") for r in sessions)


def test_the_xlsx_holds_the_same_numbers_as_the_page(client, course_with_history):
    course, ana, evil = course_with_history
    _admin(client)
    html = client.get(f"/reportes/cursos/{course.id}/asistencia").get_data(as_text=True)
    response = client.get(f"/reportes/cursos/{course.id}/asistencia.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Asistencia", "Sesiones"]
    sheet = workbook["Asistencia"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[2][:2] == ["Código SENCE", "1237894560"]
    header = next(i for i, row in enumerate(values) if row[0] == "Participante")
    by_name = {row[0]: row for row in values[header + 1:]}
    for user in (ana, evil):
        page = _page_numbers(html, user.id)
        row = by_name[user.full_name]
        assert row[4] == int(page["sessions"])
        assert row[5] == _number(page["hours"])
        assert row[6] == _number(page["connectivity"])
        assert row[9] == int(page["expired"]) and row[10] == int(page["failed"])
    evil_cell = next(c for c in sheet["A"] if c.value == evil.full_name)
    assert evil_cell.data_type == "s"
    session_rows = [r[0].value for r in workbook["Sesiones"].iter_rows()]
    assert len(session_rows) - session_rows.index("Participante") - 1 == 3


def test_instructors_of_the_course_see_it_others_do_not(client, course_with_history):
    course, ana, evil = course_with_history
    teacher = make_user("instructor")
    course.instructors.append(teacher)
    from app.extensions import db

    db.session.commit()
    login(client, teacher)
    assert client.get(f"/reportes/cursos/{course.id}/asistencia").status_code == 200
    assert client.get(f"/reportes/cursos/{course.id}/asistencia.xlsx").status_code == 200
    client.post("/salir")

    other = make_user("instructor")
    login(client, other)
    assert client.get(f"/reportes/cursos/{course.id}/asistencia").status_code == 403
    assert client.get(f"/reportes/cursos/{course.id}/sesiones.csv").status_code == 403
    client.post("/salir")

    login(client, ana)
    assert client.get(f"/reportes/cursos/{course.id}/asistencia").status_code == 403
    assert client.get(f"/reportes/cursos/{course.id}/participantes/{ana.id}").status_code == 403


def test_signed_out_goes_to_the_sign_in_page_and_unknown_ids_are_404(client, course_with_history):
    course, ana, evil = course_with_history
    assert client.get(f"/reportes/cursos/{course.id}/asistencia").status_code == 302
    _admin(client)
    assert client.get("/reportes/cursos/999/asistencia").status_code == 404
    assert client.get(f"/reportes/cursos/{course.id}/asistencia.pdf").status_code == 404
    stranger = make_user()
    assert client.get(f"/reportes/cursos/{course.id}/participantes/{stranger.id}").status_code == 404
    assert client.get(f"/reportes/cursos/{course.id}/participantes/999").status_code == 404


def test_the_live_view_lists_open_sessions_pending_attempts_and_recent_failures(client, course_with_history):
    course, ana, evil = course_with_history
    open_session(ana, course, started_at=utcnow() - timedelta(minutes=170))
    make_attempt(ana, course, created_at=utcnow() - timedelta(minutes=1))
    make_attempt(evil, course, status="failed", error_codes="204", created_at=utcnow() - timedelta(hours=1))
    _admin(client)

    html = client.get("/reportes/en-vivo").get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in html and "<html" in html
    assert "Sesiones abiertas ahora (2)" in html and "0 h 09 min" in html
    assert "Intentos esperando respuesta de SENCE (1)" in html
    assert "Fallas en las últimas 24 horas (1)" in html and "<strong>204</strong>" in html
    assert html.count("<th>Curso</th>") == 3  # every course: each table says which

    fragment = client.get("/reportes/en-vivo", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Sesiones abiertas ahora (2)" in fragment


def test_only_admins_see_the_live_view(client):
    login(client, make_user("instructor"))
    assert client.get("/reportes/en-vivo").status_code == 403


def test_the_xlsx_is_a_real_spreadsheet(client, course_with_history):
    """Dates are dates, numbers carry formats, the titles are frozen and filterable, columns are sized."""
    from datetime import datetime

    course, ana, evil = course_with_history
    _admin(client)
    workbook = load_workbook(io.BytesIO(client.get(f"/reportes/cursos/{course.id}/asistencia.xlsx").data))
    sheet = workbook["Asistencia"]
    title_row = next(c.row for c in sheet["A"] if c.value == "Participante")
    assert sheet.freeze_panes == f"A{title_row + 1}"
    assert sheet.auto_filter.ref == f"A{title_row}:M{title_row + 2}"
    ana_row = next(c.row for c in sheet["A"] if c.value == "Ana Pérez")
    hours, connectivity, last = (sheet.cell(ana_row, n) for n in (6, 7, 12))
    assert hours.value == 3.5 and hours.number_format == "0.00"
    assert connectivity.value == 43.8 and connectivity.number_format == '0.0" %"'
    assert isinstance(last.value, datetime) and last.number_format == "dd-mm-yyyy hh:mm:ss"
    assert sheet.column_dimensions["A"].width >= len("=HYPERLINK(\"http://malo.cl\",\"clic\")")
    assert sheet.column_dimensions["L"].width >= 19
    sessions = workbook["Sesiones"]
    start = next(c.row for c in sessions["A"] if c.value == "Ana Pérez")
    assert isinstance(sessions.cell(start, 3).value, datetime)
    assert sessions.cell(start, 8).number_format == "0.00"

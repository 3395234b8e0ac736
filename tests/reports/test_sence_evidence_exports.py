"""SENCE's own time (FechaHora, ZonaHoraria) and the page's flags travel in the exports, beside our clock."""

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from app.extensions import db
from app.sence.models import Exchange
from app.timeutil import utcnow
from tests.factories import enroll, login, make_course, make_user
from tests.notify.helpers import open_session

DAY_AGO = utcnow() - timedelta(days=1)
SENCE = {"cod_sence": "1237894560", "codigo_curso": "FT-2025-0001234", "linea": 3, "environment": "simulator"}


def _course():
    """Ana's session has a FechaHora three hours off ours and an answer from an unknown Origin; Benito's is clean."""
    course = make_course(title="Excel intermedio", hours=8, sence=SENCE)
    ana = make_user(full_name="Ana Pérez", run="11111111-1")
    benito = make_user(full_name="Benito Soto", run="22222222-2")
    for user in (ana, benito):
        enroll(course, user)
    flagged = open_session(ana, course, started_at=DAY_AGO, status="closed", closed_at=DAY_AGO + timedelta(hours=1))
    flagged.started_raw, flagged.closed_raw = "2026-11-30 09:00:12", "2026-11-30 10:00:40"
    flagged.zona_horaria, flagged.time_flagged = "America/Santiago", True
    db.session.add(Exchange(at=DAY_AGO, direction="in", endpoint="IniciarSesion", outcome="accepted",
                            attempt_id=flagged.login_attempt_id, flags="origin", fields={}))
    clean = open_session(benito, course, started_at=DAY_AGO, status="closed", closed_at=DAY_AGO + timedelta(hours=2))
    clean.started_raw, clean.zona_horaria = "2026-11-30 12:00:00", "America/Santiago"
    db.session.commit()
    return course


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _table(rows: list[list], first: str = "Participante") -> list[dict]:
    header = next(i for i, row in enumerate(rows) if row and row[0] == first)
    return [dict(zip(rows[header], row, strict=False)) for row in rows[header + 1:]]


def test_the_sessions_csv_carries_sence_time_and_flags(client, db):
    course = _course()
    login(client, make_user("admin"))
    by_name = {r["Participante"]: r for r in _table(_rows(client.get(f"/reportes/cursos/{course.id}/sesiones.csv")
                                                          .data))}
    ana, benito = by_name["Ana Pérez"], by_name["Benito Soto"]
    assert (ana["FechaHora SENCE inicio"], ana["FechaHora SENCE término"], ana["ZonaHoraria SENCE"]) == (
        "2026-11-30 09:00:12", "2026-11-30 10:00:40", "America/Santiago")
    assert ana["Alertas SENCE"] == "hora SENCE discrepante, origen no verificado"
    assert ana["Inicio"]  # our clock stays beside it
    assert benito["FechaHora SENCE inicio"] == "2026-11-30 12:00:00" and benito["Alertas SENCE"] == ""


def test_the_attendance_csv_and_xlsx_carry_the_flags(client, db):
    course = _course()
    login(client, make_user("admin"))
    by_name = {r["Participante"]: r for r in _table(_rows(client.get(f"/reportes/cursos/{course.id}/asistencia.csv")
                                                          .data))}
    assert by_name["Ana Pérez"]["Alertas SENCE"] == "hora SENCE discrepante, origen no verificado"
    assert by_name["Benito Soto"]["Alertas SENCE"] == ""

    workbook = load_workbook(io.BytesIO(client.get(f"/reportes/cursos/{course.id}/asistencia.xlsx").data))
    attendance = _table([[c.value for c in row] for row in workbook["Asistencia"].iter_rows()])
    assert {r["Participante"]: r["Alertas SENCE"] for r in attendance} == {
        "Ana Pérez": "hora SENCE discrepante, origen no verificado", "Benito Soto": None}
    sheet = workbook["Sesiones"]
    sessions = _table([[c.value for c in row] for row in sheet.iter_rows()])
    ana = next(r for r in sessions if r["Participante"] == "Ana Pérez")
    assert ana["FechaHora SENCE inicio"] == "2026-11-30 09:00:12" and ana["ZonaHoraria SENCE"] == "America/Santiago"
    raw_cell = next(c for c in sheet["E"] if c.value == "2026-11-30 09:00:12")
    assert raw_cell.data_type == "s"  # as received: text, not a date Excel would re-read in its own zone
    title_row = next(c.row for c in sheet["A"] if c.value == "Participante")
    assert sheet.auto_filter.ref == f"A{title_row}:L{title_row + 2}"

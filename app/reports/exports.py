"""CSV and XLSX exports of the attendance report and of the session list, with the SENCE codes on top.

CSV is what Excel in Chile opens with a double click: UTF-8 with BOM, `;` between fields, decimal comma.
Text that a spreadsheet would run as a formula (= + - @, or a leading tab/CR) gets a leading apostrophe.
In XLSX every text cell is stored as a string, so nothing there is ever a formula.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from app.reports.service import ENVIRONMENT_LABELS, AttendanceReport, SessionLine
from app.timeutil import format_chile

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ATTENDANCE_COLUMNS = ("Participante", "RUN", "Correo", "Grupo", "Sesiones contadas", "Horas contadas",
                      "Conectividad %", "Meta %", "Estado", "Sesiones vencidas", "Intentos fallidos",
                      "Última actividad")
SESSION_COLUMNS = ("Participante", "RUN", "Inicio", "Término", "Duración (h)", "Estado", "IdSesionSence",
                   "Ambiente")
DATETIME = "%d-%m-%Y %H:%M:%S"


def neutralize(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def attendance_values(report: AttendanceReport) -> list[list]:
    """Rows with typed values (numbers as numbers); the CSV and the XLSX are both written from these."""
    return [
        [row.user.full_name, row.user.run or "", row.user.email or "", row.group_name, row.sessions_counted,
         row.hours_counted, row.connectivity, row.target, row.status_label, row.sessions_expired,
         row.failed_attempts, format_chile(row.last_activity, DATETIME)]
        for row in report.rows
    ]


def session_values(lines: list[SessionLine]) -> list[list]:
    return [
        [line.sence_session.user.full_name, line.sence_session.user.run or "",
         format_chile(line.sence_session.started_at, DATETIME), format_chile(line.sence_session.closed_at, DATETIME),
         line.hours, line.label, line.sence_session.id_sesion_sence,
         ENVIRONMENT_LABELS.get(line.sence_session.environment, line.sence_session.environment)]
        for line in lines
    ]


def _header(report: AttendanceReport, title: str) -> list[list]:
    return [[title], *([label, value] for label, value in report.header),
            ["Generado", format_chile(report.generated_at, DATETIME) + " (hora de Chile)"], []]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return neutralize(str(value))


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def attendance_csv(report: AttendanceReport) -> bytes:
    return _csv([*_header(report, "Reporte de asistencia y conectividad SENCE"), list(ATTENDANCE_COLUMNS),
                 *attendance_values(report)])


def sessions_csv(report: AttendanceReport, lines: list[SessionLine]) -> bytes:
    return _csv([*_header(report, "Sesiones SENCE"), list(SESSION_COLUMNS), *session_values(lines)])


def _sheet(workbook: Workbook, title: str, header: list[list], columns: tuple, values: list[list], first=False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    bold = Font(bold=True)
    for number, row in enumerate([*header, list(columns), *values], start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
    sheet.cell(row=1, column=1).font = bold
    for cell in sheet[len(header) + 1]:
        cell.font = bold
    sheet.column_dimensions["A"].width = 32
    return sheet


def attendance_xlsx(report: AttendanceReport, lines: list[SessionLine]) -> bytes:
    """Two sheets, "Asistencia" and "Sesiones", each under the same header block as the CSV."""
    workbook = Workbook()
    _sheet(workbook, "Asistencia", _header(report, "Reporte de asistencia y conectividad SENCE"),
           ATTENDANCE_COLUMNS, attendance_values(report), first=True)
    _sheet(workbook, "Sesiones", _header(report, "Sesiones SENCE"), SESSION_COLUMNS, session_values(lines))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""CSV and XLSX exports of the attendance report and of the session list, with the SENCE codes on top.

CSV is what Excel in Chile opens with a double click: UTF-8 with BOM, `;` between fields, decimal comma.
Text that a spreadsheet would run as a formula (= + - @, or a leading tab/CR) gets a leading apostrophe.
In XLSX every text cell is stored as a string, so nothing there is ever a formula; dates are real dates (Chile's
local time, Excel has no time zones) and numbers carry a display format, so the sheet sorts, filters and sums.
SENCE's own FechaHora and ZonaHoraria are copied as received, beside our clock (they are evidence, not what counts),
with the flags the page shows ("hora SENCE discrepante", "origen no verificado").
"""

import csv
import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.reports.service import ENVIRONMENT_LABELS, AttendanceReport, SessionLine
from app.timeutil import format_chile, to_chile

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ATTENDANCE_COLUMNS = ("Participante", "RUN", "Correo", "Grupo", "Sesiones contadas", "Horas contadas",
                      "Conectividad %", "Meta %", "Estado", "Sesiones vencidas", "Intentos fallidos",
                      "Última actividad", "Alertas SENCE")
SESSION_COLUMNS = ("Participante", "RUN", "Inicio", "Término", "FechaHora SENCE inicio", "FechaHora SENCE término",
                   "ZonaHoraria SENCE", "Duración (h)", "Estado", "IdSesionSence", "Ambiente", "Alertas SENCE")
DATETIME = "%d-%m-%Y %H:%M:%S"
XLSX_DATETIME = "dd-mm-yyyy hh:mm:ss"
# Display formats per column title; Excel shows them with the reader's own decimal separator.
XLSX_FORMATS = {"Horas contadas": "0.00", "Duración (h)": "0.00", "Conectividad %": '0.0" %"', "Meta %": '0" %"',
                "Sesiones contadas": "0", "Sesiones vencidas": "0", "Intentos fallidos": "0"}


def neutralize(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def local_time(value: datetime | None) -> datetime | None:
    """Chile's wall-clock time without a zone: what a spreadsheet cell can hold."""
    local = to_chile(value)
    return local.replace(tzinfo=None) if local else None


def attendance_values(report: AttendanceReport) -> list[list]:
    """Rows with typed values (numbers as numbers); the CSV and the XLSX are both written from these."""
    return [
        [row.user.full_name, row.user.run or "", row.user.email or "", row.group_name, row.sessions_counted,
         row.hours_counted, row.connectivity, row.target, row.status_label, row.sessions_expired,
         row.failed_attempts, local_time(row.last_activity), ", ".join(row.flags)]
        for row in report.rows
    ]


def session_values(lines: list[SessionLine]) -> list[list]:
    return [
        [line.sence_session.user.full_name, line.sence_session.user.run or "",
         local_time(line.sence_session.started_at), local_time(line.sence_session.closed_at),
         line.sence_session.started_raw, line.sence_session.closed_raw, line.sence_session.zona_horaria,
         line.hours, line.label, line.sence_session.id_sesion_sence,
         ENVIRONMENT_LABELS.get(line.sence_session.environment, line.sence_session.environment),
         ", ".join(line.flags)]
        for line in lines
    ]


def _header(report: AttendanceReport, title: str) -> list[list]:
    return [[title], *([label, value] for label, value in report.header),
            ["Generado", format_chile(report.generated_at, DATETIME) + " (hora de Chile)"], []]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATETIME)
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
    """The header block, then a table with bold frozen titles, a filter, typed cells and sized columns."""
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    bold = Font(bold=True)
    formats = [XLSX_FORMATS.get(name) for name in columns]
    for number, row in enumerate([*header, list(columns), *values], start=1):
        table_row = number > len(header) + 1
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, datetime):
                cell.number_format = XLSX_DATETIME
            elif table_row and isinstance(value, int | float) and formats[column - 1]:
                cell.number_format = formats[column - 1]
    sheet.cell(row=1, column=1).font = bold
    title_row = len(header) + 1
    for cell in sheet[title_row]:
        cell.font = bold
    sheet.freeze_panes = sheet.cell(row=title_row + 1, column=1)
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A{title_row}:{last}{title_row + max(len(values), 1)}"
    _size_columns(sheet, columns, values)
    return sheet


def _size_columns(sheet, columns: tuple, values: list[list]) -> None:
    """Each column as wide as its longest title or value (within reason); dates need 19 characters."""
    for index, name in enumerate(columns):
        widths = [len(name)]
        for row in values:
            value = row[index] if index < len(row) else None
            widths.append(19 if isinstance(value, datetime) else len(_csv_cell(value)))
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(widths) + 2, 50)


def attendance_xlsx(report: AttendanceReport, lines: list[SessionLine]) -> bytes:
    """Two sheets, "Asistencia" and "Sesiones", each under the same header block as the CSV."""
    workbook = Workbook()
    _sheet(workbook, "Asistencia", _header(report, "Reporte de asistencia y conectividad SENCE"),
           ATTENDANCE_COLUMNS, attendance_values(report), first=True)
    _sheet(workbook, "Sesiones", _header(report, "Sesiones SENCE"), SESSION_COLUMNS, session_values(lines))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

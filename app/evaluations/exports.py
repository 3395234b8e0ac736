"""Gradebook exports, with the attendance export's conventions (app/reports/exports.py): the same header block,
CSV for Chilean Excel (BOM, `;`, decimal comma, formula-looking text neutralized) and XLSX with real numbers.
"""

import io

from openpyxl import Workbook

from app.evaluations.gradebook import Gradebook
from app.reports.exports import DATETIME, _csv, _sheet
from app.timeutil import format_chile

GRADE_FORMAT = "0.0"
PCT_FORMAT = "0.0"


def columns(book: Gradebook) -> list[str]:
    per_evaluation = [label for e in book.evaluations for label in (f"{e.title}: nota", f"{e.title}: %",
                                                                     f"{e.title}: intentos")]
    return ["Participante", "RUN", "Correo", "Grupo", *per_evaluation, "Nota final", "Lecciones completadas %",
            "Sesiones SENCE contadas", "Estado", "Estado fijado por el equipo", "Motivos"]


def values(book: Gradebook) -> list[list]:
    """Typed values: grades and percentages as numbers (None when there is none), text as text."""
    rows = []
    for row in book.rows:
        cells = [row.user.full_name, row.user.run or "", row.user.email or "", row.group_name]
        for evaluation in book.evaluations:
            result = row.results.get(evaluation.id)
            grade = None if result is None or result.grade is None else float(result.grade)
            pct = None if result is None else float(result.score_pct)
            cells += [grade if result is None or not result.pending_review else "Pendiente", pct,
                      row.attempts.get(evaluation.id, 0)]
        status = row.status
        cells += [None if status.final_grade is None else float(status.final_grade),
                  float(status.lessons_completed_pct), status.counted_sessions, row.status_label, status.overridden,
                  " ".join(status.reasons)]
        rows.append(cells)
    return rows


def _header(book: Gradebook) -> list[list]:
    course = book.course
    settings = course.sence
    return [["Calificaciones y estado del curso"], ["Curso", course.title],
            ["Código SENCE", (settings.cod_sence if settings else "") or "(en blanco)"],
            ["Código curso (ID acción)", (settings.codigo_curso if settings else "") or "(en blanco)"],
            ["Generado", format_chile(book.generated_at, DATETIME) + " (hora de Chile)"], []]


def _one_decimal(value):
    """Grades are written 4,0 (not 4): every number with decimals gets one, with a decimal comma."""
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else value


def gradebook_csv(book: Gradebook) -> bytes:
    rows = [[_one_decimal(value) for value in row] for row in values(book)]
    return _csv([*_header(book), columns(book), *rows])


def gradebook_xlsx(book: Gradebook) -> bytes:
    workbook = Workbook()
    header = _header(book)
    names = columns(book)
    sheet = _sheet(workbook, "Calificaciones", header, tuple(names), values(book), first=True)
    first_data = len(header) + 2
    for index, name in enumerate(names, start=1):
        fmt = GRADE_FORMAT if name.endswith("nota") or name == "Nota final" else (
            PCT_FORMAT if name.endswith("%") else None)
        if fmt is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=first_data, min_col=index, max_col=index):
            if isinstance(cell.value, float):
                cell.number_format = fmt
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

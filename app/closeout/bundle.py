"""The evidence bundle: one ZIP per course for an audit or a dispute with an OTIC.

Inside: the attendance report (CSV and XLSX, the same files as the Asistencia tab), the SENCE exchange log
(never the token), grades and statuses, the certificates (PDFs and a list with folios), and a manifest with the
SHA-256 of every file and when the bundle was generated (`sha256sum -c SHA256SUMS` checks it).
"""

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime

from sqlalchemy import select

from app.certificates import service as certificates
from app.closeout import service
from app.courses.models import Course
from app.evaluations.models import Evaluation
from app.evaluations.status import counted_results
from app.extensions import db
from app.reports import exports
from app.reports import service as reports
from app.sence.models import Attempt, Exchange
from app.timeutil import format_chile, to_chile, utcnow

DATETIME = "%d-%m-%Y %H:%M:%S"
EXCHANGE_COLUMNS = ("Fecha (Chile)", "Dirección", "Endpoint", "Intento", "RUN", "Resultado", "IP", "Origen",
                    "Campos")
CERTIFICATE_COLUMNS = ("Folio", "Participante", "RUN", "Estado", "Nota final", "Emitido (Chile)",
                       "Revocado (Chile)", "Motivo de revocación", "Reemplaza al folio", "Archivo")
SECRET_MARKERS = ("token",)


def _csv(rows: list[list]) -> bytes:
    """The same dialect as the attendance CSV: UTF-8 with BOM, `;`, formulas neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([exports.neutralize("" if value is None else str(value)) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def without_secrets(fields: dict | None) -> dict:
    """The log never stores the token (DESIGN.md); a key that looks like one is still never exported."""
    return {key: value for key, value in (fields or {}).items()
            if not any(marker in key.lower() for marker in SECRET_MARKERS)}


def exchange_log_csv(course_id: int) -> bytes:
    rows = db.session.execute(
        select(Exchange, Attempt.run_alumno).join(Attempt, Exchange.attempt_id == Attempt.id)
        .where(Attempt.course_id == course_id).order_by(Exchange.at, Exchange.id)
    ).all()
    lines = [[format_chile(ex.at, DATETIME), "Enviado a SENCE" if ex.direction == "out" else "Recibido de SENCE",
              ex.endpoint, ex.attempt_id, run, ex.outcome, ex.remote_addr, ex.origin,
              json.dumps(without_secrets(ex.fields), ensure_ascii=False, sort_keys=True)]
             for ex, run in rows]
    return _csv([list(EXCHANGE_COLUMNS), *lines])


GRADE_COLUMNS = ("Participante", "RUN", "Estado", "Nota final", "Lecciones completadas %", "Sesiones SENCE contadas",
                 "Ajustado a mano", "Motivos")


def _decimal(value) -> str:
    return "" if value is None else str(value).replace(".", ",")


def grades_csv(lines: list[service.ChecklistLine]) -> bytes:
    """Each participant's course status (app/evaluations) with its reasons, as the Cierre page shows it."""
    rows = [[line.user.full_name, line.user.run or "", line.status_label, _decimal(line.status.final_grade),
             _decimal(line.status.lessons_completed_pct), line.status.counted_sessions,
             "Sí" if line.status.overridden else "No", " · ".join(line.status.reasons)]
            for line in lines]
    return _csv([list(GRADE_COLUMNS), *rows])


EVALUATION_COLUMNS = ("Participante", "RUN", "Evaluación", "Ponderación", "Puntaje %", "Nota", "Pendiente de revisión")


def evaluations_csv(course: Course, lines: list[service.ChecklistLine], now: datetime) -> bytes:
    """The attempt that counts per participant and evaluation (best or last, as each evaluation says)."""
    results = counted_results(course.id, now=now)
    evaluations = db.session.execute(
        select(Evaluation).where(Evaluation.course_id == course.id).order_by(Evaluation.id)
    ).scalars().all()
    rows = []
    for user in (line.user for line in lines):
        for evaluation in evaluations:
            result = results.get((user.id, evaluation.id))
            rows.append([user.full_name, user.run or "", evaluation.title, _decimal(evaluation.weight),
                         _decimal(result.score_pct) if result else "", _decimal(result.grade) if result else "",
                         ("Sí" if result.pending_review else "No") if result else "Sin rendir"])
    return _csv([list(EVALUATION_COLUMNS), *rows])


def certificates_csv(certs) -> bytes:
    rows = [[c.folio, c.participant_name, c.participant_run, "Válido" if c.is_valid else "Revocado",
             "" if c.final_grade is None else f"{c.final_grade:.1f}".replace(".", ","),
             format_chile(c.issued_at, DATETIME), format_chile(c.revoked_at, DATETIME), c.revoked_reason,
             c.replaces.folio if c.replaces is not None else "", f"certificados/{certificates.pdf_name(c)}"]
            for c in certs]
    return _csv([list(CERTIFICATE_COLUMNS), *rows])


def _files(course: Course, now: datetime) -> dict[str, bytes]:
    report = reports.attendance(course, now)
    lines = reports.session_lines(course.id, report.generated_at, environment=report.environment)
    checklist = service.checklist(course, now)
    participants = sorted(checklist.qualifying + checklist.not_qualifying, key=lambda line: line.user.full_name)
    files = {
        "asistencia.csv": exports.attendance_csv(report),
        "asistencia.xlsx": exports.attendance_xlsx(report, lines),
        "sesiones.csv": exports.sessions_csv(report, lines),
        "intercambios-sence.csv": exchange_log_csv(course.id),
        "notas-y-estados.csv": grades_csv(participants),
        "evaluaciones.csv": evaluations_csv(course, participants, now),
    }
    certs = certificates.of_course(course.id)
    files["certificados.csv"] = certificates_csv(certs)
    for cert in certs:
        files[f"certificados/{certificates.pdf_name(cert)}"] = certificates.pdf_of(cert)
    return files


def manifest(course: Course, files: dict[str, bytes], now: datetime) -> tuple[bytes, bytes]:
    """manifest.json (what, when, each file's size and SHA-256) and SHA256SUMS in `sha256sum` format."""
    entries = [{"file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
               for name, data in sorted(files.items())]
    document = {"course": {"id": course.id, "title": course.title,
                           "start_date": course.start_date.isoformat() if course.start_date else None,
                           "end_date": course.end_date.isoformat() if course.end_date else None},
                "generated_at": now.isoformat(), "generated_at_chile": to_chile(now).isoformat(),
                "generator": "Pizarra", "files": entries}
    sums = "".join(f"{e['sha256']}  {e['file']}\n" for e in entries)
    return json.dumps(document, ensure_ascii=False, indent=2).encode(), sums.encode()


def build(course: Course, now: datetime | None = None) -> bytes:
    now = now or utcnow()
    files = _files(course, now)
    manifest_json, sums = manifest(course, files, now)
    stamp = to_chile(now).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*sorted(files.items()), ("manifest.json", manifest_json), ("SHA256SUMS", sums)]:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def file_name(course: Course, now: datetime | None = None) -> str:
    return f"evidencia-curso{course.id}-{format_chile(now or utcnow(), '%Y%m%d-%H%M')}.zip"

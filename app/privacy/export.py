"""The "Mis datos" download (portability): everything Pizarra holds about one person, as a ZIP with
`datos.json` (machine-readable) and one CSV per section (readable in a spreadsheet).

Rule: one function per data class, each selecting only rows of that person. The OTEC's SENCE token never
appears: attempts leave out the token reference and exchange fields drop any key that names a token.
Sends to SIC hold many people at once: only the person's own entries (their line of the payload, their
rejection) are exported, never the whole send.
"""

import csv
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import String, cast, or_, select

from app.auth.models import User
from app.certificates.models import Certificate
from app.courses.models import Course, Enrollment, Lesson, LessonProgress
from app.evaluations.models import Evaluation, EvaluationAttempt, StatusOverride
from app.extensions import db
from app.notify.models import OutboxMessage
from app.privacy.models import Block, NoticeAcknowledgement, PrivacyRequest
from app.sence.models import Attempt, Exchange, SenceSession
from app.sic.models import SicAccepted, SicAction, SicSend
from app.timeutil import format_chile, utcnow

SECRET_KEYS = ("token",)


def _clean(fields: dict | None) -> dict:
    return {k: v for k, v in (fields or {}).items() if not any(s in k.lower() for s in SECRET_KEYS)}


def profile(user: User) -> list[dict]:
    return [{"id": user.id, "nombre": user.full_name, "run": user.run or "", "correo": user.email or "",
             "telefono": user.phone or "", "celular": user.mobile or "", "rol": user.role_label,
             "activa": user.active, "creada": user.created_at, "bloqueada": db.session.get(Block, user.id) is not None}]


def enrolments(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Enrollment, Course.title).join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user.id).order_by(Enrollment.id)
    ).all()
    return [{"curso_id": e.course_id, "curso": title, "grupo": e.group.name if e.group else "",
             "inscrito": e.created_at} for e, title in rows]


def lesson_progress(user: User) -> list[dict]:
    rows = db.session.execute(
        select(LessonProgress, Lesson.title).join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id).order_by(LessonProgress.id)
    ).all()
    return [{"curso_id": p.course_id, "leccion": title, "completada": p.completed_at} for p, title in rows]


def _attempts(user: User) -> list[Attempt]:
    return list(db.session.execute(select(Attempt).where(Attempt.user_id == user.id).order_by(Attempt.id))
                .scalars())


def sence_attempts(user: User) -> list[dict]:
    return [{"id": a.id, "tipo": a.kind, "curso_id": a.course_id, "ambiente": a.environment,
             "run_alumno": a.run_alumno, "cod_sence": a.cod_sence, "codigo_curso": a.codigo_curso,
             "linea": a.linea, "id_sesion_alumno": a.id_sesion_alumno, "estado": a.display_status(),
             "errores": a.error_codes, "creado": a.created_at, "respondido": a.answered_at,
             "respuesta": _clean(a.answer_fields)} for a in _attempts(user)]


def sence_sessions(user: User) -> list[dict]:
    rows = db.session.execute(select(SenceSession).where(SenceSession.user_id == user.id)
                              .order_by(SenceSession.id)).scalars()
    return [{"id": s.id, "curso_id": s.course_id, "id_sesion_sence": s.id_sesion_sence,
             "id_sesion_alumno": s.id_sesion_alumno, "ambiente": s.environment, "inicio": s.started_at,
             "inicio_sence": s.started_raw, "zona_horaria": s.zona_horaria, "termino": s.closed_at,
             "estado": s.display_status(), "vence": s.expires_at} for s in rows]


def exchanges_query(user: User):
    """The person's exchanges: those of their attempts, and refused answers that carry their RUN."""
    attempt_ids = select(Attempt.id).where(Attempt.user_id == user.id)
    mine = Exchange.attempt_id.in_(attempt_ids)
    if user.run:
        quoted = f'"{user.run}"'  # the RUN as a JSON string value, not a part of a longer number
        mine = or_(mine, Exchange.attempt_id.is_(None) & cast(Exchange.fields, String).contains(quoted))
    return select(Exchange).where(mine).order_by(Exchange.id)


def sence_exchanges(user: User) -> list[dict]:
    return [{"id": x.id, "fecha": x.at, "direccion": x.direction, "servicio": x.endpoint, "intento_id": x.attempt_id,
             "resultado": x.outcome, "ip": x.remote_addr, "campos": _clean(x.fields)}
            for x in db.session.execute(exchanges_query(user)).scalars()]


def outbox_query(user: User):
    mine = OutboxMessage.user_id == user.id
    if user.email:
        mine = or_(mine, OutboxMessage.to_addrs.contains(user.email))
    return select(OutboxMessage).where(mine).order_by(OutboxMessage.id)


def emails(user: User) -> list[dict]:
    """E-mails sent to the person (alerts to staff about them are the OTEC's, not theirs: left out)."""
    rows = db.session.execute(outbox_query(user)).scalars()
    return [{"id": m.id, "tipo": m.kind, "asunto": m.subject, "cuerpo": m.body, "estado": m.status,
             "creado": m.created_at, "enviado": m.sent_at} for m in rows
            if user.email and user.email in m.recipients]


def notice_acknowledgements(user: User) -> list[dict]:
    rows = db.session.execute(select(NoticeAcknowledgement).where(NoticeAcknowledgement.user_id == user.id)
                              .order_by(NoticeAcknowledgement.id)).scalars()
    return [{"version": a.version, "fecha": a.acknowledged_at} for a in rows]


def privacy_requests(user: User) -> list[dict]:
    rows = db.session.execute(select(PrivacyRequest).where(PrivacyRequest.user_id == user.id)
                              .order_by(PrivacyRequest.id)).scalars()
    return [{"id": r.id, "tipo": r.kind_label, "detalle": r.detail, "estado": r.status_label,
             "presentada": r.created_at, "plazo": r.due_at, "resultado": r.outcome_label, "respuesta": r.answer,
             "respondida": r.answered_at} for r in rows]


def grades(user: User) -> list[dict]:
    """Each evaluation attempt with its score and grade; the answers as given (one row per attempt)."""
    rows = db.session.execute(
        select(EvaluationAttempt, Evaluation).join(Evaluation, Evaluation.id == EvaluationAttempt.evaluation_id)
        .where(EvaluationAttempt.user_id == user.id).order_by(EvaluationAttempt.id)
    ).all()
    return [{"id": a.id, "curso_id": e.course_id, "evaluacion": e.title, "intento": a.number,
             "comenzado": a.started_at, "enviado": a.submitted_at, "puntaje_pct": a.score_pct, "nota": a.grade,
             "en_revision": a.pending_review,
             "respuestas": [{"pregunta_id": x.question_id, "respuesta": x.value, "puntos": x.points}
                            for x in sorted(a.answers, key=lambda x: x.question_id)]} for a, e in rows]


def status_decisions(user: User) -> list[dict]:
    rows = db.session.execute(select(StatusOverride).where(StatusOverride.user_id == user.id)
                              .order_by(StatusOverride.id)).scalars()
    return [{"curso_id": o.course_id, "estado": o.status or "(sin decisión)", "motivo": o.reason,
             "fecha": o.created_at} for o in rows]


def certificates(user: User) -> list[dict]:
    rows = db.session.execute(select(Certificate).where(Certificate.user_id == user.id)
                              .order_by(Certificate.id)).scalars()
    return [{"folio": c.folio, "curso_id": c.course_id, "curso": c.course_title, "nombre": c.participant_name,
             "run": c.participant_run, "horas": c.hours, "nota_final": c.final_grade, "estado": c.status,
             "emitido": c.issued_at, "revocado": c.revoked_at} for c in rows]


def sic_actions(user: User) -> list[dict]:
    rows = db.session.execute(select(SicAction).where(SicAction.user_id == user.id).order_by(SicAction.id))
    return [{"curso_id": a.course_id, "leccion_id": a.lesson_id, "evaluacion_id": a.evaluation_id, "fecha": a.at}
            for a in rows.scalars()]


def sic_accepted(user: User) -> list[dict]:
    rows = db.session.execute(select(SicAccepted).where(SicAccepted.user_id == user.id)
                              .order_by(SicAccepted.course_id, SicAccepted.module)).scalars()
    return [{"curso_id": r.course_id, "modulo": r.module or "(curso)", "avance_pct": r.percent,
             "aceptado": r.accepted_at} for r in rows]


def run_number(run: str | None) -> str:
    """The RUN as SIC sends it: the number without the check digit (`rutAlumno`)."""
    return (run or "").split("-")[0]


def sic_sends_query(user: User):
    """Sends of courses the person has SIC data in (the payload names them); the rows still hold everybody."""
    courses = select(SicAction.course_id).where(SicAction.user_id == user.id).union(
        select(SicAccepted.course_id).where(SicAccepted.user_id == user.id),
        select(Enrollment.course_id).where(Enrollment.user_id == user.id))
    return select(SicSend).where(SicSend.course_id.in_(courses)).order_by(SicSend.id)


def own_sic_entries(send: SicSend, number: str) -> tuple[list[dict], list[dict]]:
    """The person's line(s) of a send's payload and their rejections, found by their RUN number."""
    students = [s for s in (send.request_body or {}).get("listaAlumnos", []) if str(s.get("rutAlumno")) == number]
    rejections = [r for r in send.rejections or [] if str(r.get("rut")) == number]
    return students, rejections


def sic_sends(user: User) -> list[dict]:
    number = run_number(user.run)
    if not number:
        return []
    rows = []
    for send in db.session.execute(sic_sends_query(user)).scalars():
        students, rejections = own_sic_entries(send, number)
        if students or rejections:
            rows.append({"envio_id": send.id, "curso_id": send.course_id, "fecha": send.started_at,
                         "estado": send.status, "enviado": _clean_all(students), "rechazos": rejections})
    return rows


def _clean_all(items: list[dict]) -> list[dict]:
    return [_clean(item) for item in items]


# name in the ZIP -> (Spanish title for the page, function)
SECTIONS = {
    "perfil": ("Perfil", profile),
    "inscripciones": ("Inscripciones", enrolments),
    "avance_lecciones": ("Lecciones completadas", lesson_progress),
    "sence_intentos": ("Intentos SENCE", sence_attempts),
    "sence_sesiones": ("Sesiones SENCE", sence_sessions),
    "sence_intercambios": ("Intercambios con SENCE", sence_exchanges),
    "calificaciones": ("Calificaciones (intentos de evaluación)", grades),
    "estado_curso": ("Decisiones sobre tu estado en un curso", status_decisions),
    "certificados": ("Certificados", certificates),
    "sic_acciones": ("Actividad registrada para SIC", sic_actions),
    "sic_avance_aceptado": ("Avance aceptado por SENCE (SIC)", sic_accepted),
    "sic_envios": ("Envíos a SIC con tus datos", sic_sends),
    "correos": ("Correos enviados", emails),
    "aviso_privacidad": ("Avisos de privacidad leídos", notice_acknowledgements),
    "solicitudes": ("Solicitudes de privacidad", privacy_requests),
}


def collect(user: User) -> dict[str, list[dict]]:
    return {name: function(user) for name, (_title, function) in SECTIONS.items()}


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):  # grades and scores: exact, as text ("6.2")
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_chile(value, "%d-%m-%Y %H:%M:%S")
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=_json_value)
    text = str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def _csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: csv_value(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


README = """Tus datos en Pizarra, generados el {at} (hora de Chile).

datos.json tiene todo en un formato legible por máquinas (portabilidad).
Cada archivo .csv es una sección, para abrir en una planilla (separador «;»).
"""


def bundle(user: User) -> bytes:
    data = collect(user)
    generated = utcnow()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LEEME.txt", README.format(at=format_chile(generated, "%d-%m-%Y %H:%M")))
        archive.writestr("datos.json", json.dumps({"generado": generated, "persona_id": user.id, **data},
                                                  default=_json_value, ensure_ascii=False, indent=2))
        for name, rows in data.items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()

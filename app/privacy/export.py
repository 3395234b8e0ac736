"""The "Mis datos" download (portability): everything Pizarra holds about one person, as a ZIP with
`datos.json` (machine-readable) and one CSV per section (readable in a spreadsheet).

Rule: one function per data class, each selecting only rows of that person. The OTEC's SENCE token never
appears: attempts leave out the token reference and exchange fields drop any key that names a token.
The coordinator adds grades, certificates and SIC uploads as more entries of SECTIONS.
"""

import csv
import io
import json
import zipfile
from datetime import date, datetime

from sqlalchemy import String, cast, or_, select

from app.auth.models import User
from app.courses.models import Course, Enrollment, Lesson, LessonProgress
from app.extensions import db
from app.notify.models import OutboxMessage
from app.privacy.models import Block, NoticeAcknowledgement, PrivacyRequest
from app.sence.models import Attempt, Exchange, SenceSession
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


# name in the ZIP -> (Spanish title for the page, function)
SECTIONS = {
    "perfil": ("Perfil", profile),
    "inscripciones": ("Inscripciones", enrolments),
    "avance_lecciones": ("Lecciones completadas", lesson_progress),
    "sence_intentos": ("Intentos SENCE", sence_attempts),
    "sence_sesiones": ("Sesiones SENCE", sence_sessions),
    "sence_intercambios": ("Intercambios con SENCE", sence_exchanges),
    "correos": ("Correos enviados", emails),
    "aviso_privacidad": ("Avisos de privacidad leídos", notice_acknowledgements),
    "solicitudes": ("Solicitudes de privacidad", privacy_requests),
}


def collect(user: User) -> dict[str, list[dict]]:
    return {name: function(user) for name, (_title, function) in SECTIONS.items()}


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_chile(value, "%d-%m-%Y %H:%M:%S")
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
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

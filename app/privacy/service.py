"""Privacy rules: the notice and its acknowledgements, requests and their deadline, blocking, the access trail.

Suppression lives in `suppression.py`, the download in `export.py` and retention in `retention.py`: each is one
module with one function per data class, so a new table (grades, certificates, SIC uploads) is one more function.
"""

import time
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.extensions import db
from app.privacy.models import (
    OUTCOMES,
    REQUEST_KINDS,
    AccessEvent,
    Block,
    NoticeAcknowledgement,
    PrivacyNotice,
    PrivacyRequest,
    PrivacySettings,
    RequestEvent,
)
from app.sence.models import Otec
from app.timeutil import utcnow

DEFAULT_DEADLINE_DAYS = 30  # Ley 21.719: the controller answers within 30 calendar days of the filing
DETAIL_LIMIT = 4000


class RuleError(ValueError):
    """A privacy rule refused the action; the message is for the user (Spanish)."""


def _insert():
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- Notice ---------------------------------------------------------------------------------------------


DEFAULT_NOTICE = """\
# Aviso de privacidad

{otec} (la OTEC) es responsable de los datos personales que se tratan en Pizarra, su plataforma de cursos \
e-learning. Este aviso explica qué datos guardamos, para qué, quién los recibe, cuánto tiempo y cómo ejercer tus \
derechos según la Ley 21.719 de protección de datos personales.

## Qué datos guardamos

- Identificación y contacto: nombre, RUN, correo electrónico y teléfono.
- Tu participación: cursos en que estás inscrito, lecciones completadas y, cuando existan, evaluaciones, notas \
y certificados.
- Asistencia SENCE: cada inicio y cierre de sesión en el Registro de Conexiones E-learning (RCE), con la \
respuesta de SENCE, fecha y hora, y la dirección desde la que se envió.
- Correos que Pizarra te envió (por ejemplo, recordatorios para cerrar tu sesión SENCE).

## Para qué

- Dictar el curso y llevar tu avance.
- Registrar tu asistencia ante SENCE: es una obligación legal de la OTEC en los cursos con franquicia \
tributaria o financiados por SENCE; sin ese registro la OTEC no puede acreditar tu asistencia.
- Avisarte de sesiones abiertas y resolver problemas de conexión con SENCE.

## Quién los recibe

- SENCE, que recibe tu RUN y tu asistencia al iniciar y cerrar cada sesión, y los informes del curso.
- El OTIC o la empresa que contrató tu capacitación, que recibe tu asistencia y tus resultados.
- Nadie más, salvo obligación legal.

## Cuánto tiempo

- La evidencia de asistencia SENCE y las notas de cursos SENCE se conservan mientras la OTEC deba poder \
acreditarlas (5 años por defecto); los correos enviados, 180 días; el registro de accesos del personal, 2 años.
- Pasado ese plazo los datos se eliminan automáticamente.

## Tus derechos

Puedes pedir acceso, rectificación, supresión, oposición y bloqueo de tus datos, y descargarlos (portabilidad), \
desde la página «Mis datos» de Pizarra. La OTEC responde dentro de {days} días corridos. Si pides la supresión, \
la evidencia de asistencia que la OTEC debe conservar para SENCE se guarda bajo un seudónimo hasta que termine \
su plazo, y todo lo demás se borra. Si no quedas conforme con la respuesta, puedes reclamar ante la Agencia de \
Protección de Datos Personales.
"""


def default_notice_text() -> str:
    otec = db.session.execute(select(Otec.name).order_by(Otec.id).limit(1)).scalar_one_or_none()
    return DEFAULT_NOTICE.format(otec=otec or "La OTEC", days=deadline_days())


def current_notice() -> PrivacyNotice:
    """The latest published version; version 1 (the default text) is published the first time it is needed."""
    notice = db.session.execute(
        select(PrivacyNotice).order_by(PrivacyNotice.version.desc()).limit(1)
    ).scalar_one_or_none()
    if notice is not None:
        return notice
    statement = _insert()(PrivacyNotice).values(version=1, body=default_notice_text(), published_at=utcnow())
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["version"]))
    db.session.commit()
    return db.session.execute(select(PrivacyNotice).where(PrivacyNotice.version == 1)).scalar_one()


VERSION_CACHE_SECONDS = 30
_versions: dict[int, tuple[int, float]] = {}  # id(engine) -> (current version, remembered until)


def current_version() -> int:
    """The current version number. The gate asks on every participant page, so each worker remembers it for
    VERSION_CACHE_SECONDS: a notice published in this process is seen at once, one published on another worker or
    server within that time (the notice is legal text, not a live state; a page load was one query more without it).
    """
    key = id(db.engine)
    cached = _versions.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    version = db.session.execute(select(func.max(PrivacyNotice.version))).scalar_one_or_none()
    version = version or current_notice().version
    _versions[key] = (version, time.monotonic() + VERSION_CACHE_SECONDS)
    return version


def forget_version() -> None:
    """Every app of this process asks the database again (after a publication; tests, after emptying it)."""
    _versions.clear()


def publish_notice(body: str, by: User) -> PrivacyNotice:
    body = (body or "").strip()
    if len(body) < 50:
        raise RuleError("El aviso debe tener al menos 50 caracteres: di qué datos se guardan, para qué y cómo "
                        "ejercer los derechos.")
    latest = current_notice()
    if body == latest.body.strip():
        raise RuleError("El texto es igual al de la versión vigente: no se publicó una versión nueva.")
    notice = PrivacyNotice(version=latest.version + 1, body=body, published_at=utcnow(), published_by_id=by.id)
    db.session.add(notice)
    try:
        db.session.commit()
    except IntegrityError:  # another admin published the same version number a moment ago
        db.session.rollback()
        raise RuleError("Otra persona publicó una versión del aviso recién: revísala y vuelve a intentarlo.") from None
    forget_version()
    return notice


def has_acknowledged(user_id: int, version: int) -> bool:
    return db.session.execute(
        select(NoticeAcknowledgement.id).where(NoticeAcknowledgement.user_id == user_id,
                                               NoticeAcknowledgement.version == version)
    ).first() is not None


def acknowledge(user: User, version: int, now: datetime | None = None) -> NoticeAcknowledgement | None:
    """Record that `user` read `version`; a second press changes nothing. Refuses a version that is not current."""
    notice = current_notice()
    if version != notice.version:
        raise RuleError("El aviso cambió mientras lo leías: revisa la versión vigente.")
    statement = _insert()(NoticeAcknowledgement).values(user_id=user.id, notice_id=notice.id, version=notice.version,
                                                        acknowledged_at=now or utcnow())
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["user_id", "notice_id"]))
    db.session.commit()
    return db.session.execute(select(NoticeAcknowledgement).where(
        NoticeAcknowledgement.user_id == user.id, NoticeAcknowledgement.notice_id == notice.id)).scalar_one()


# --- Settings -------------------------------------------------------------------------------------------


def settings() -> PrivacySettings:
    row = db.session.get(PrivacySettings, 1)
    if row is None:
        db.session.execute(_insert()(PrivacySettings).values(id=1, request_deadline_days=DEFAULT_DEADLINE_DAYS)
                           .on_conflict_do_nothing(index_elements=["id"]))
        db.session.commit()
        row = db.session.get(PrivacySettings, 1)
    return row


def deadline_days() -> int:
    row = db.session.get(PrivacySettings, 1)
    return row.request_deadline_days if row else DEFAULT_DEADLINE_DAYS


def set_deadline_days(days: int) -> None:
    if not 1 <= days <= 90:
        raise RuleError("El plazo debe estar entre 1 y 90 días.")
    settings().request_deadline_days = days
    db.session.commit()


# --- Requests -------------------------------------------------------------------------------------------


def file_request(user: User, kind: str, detail: str, now: datetime | None = None) -> PrivacyRequest:
    if kind not in REQUEST_KINDS:
        raise RuleError("Elige el tipo de solicitud.")
    detail = (detail or "").strip()
    if len(detail) > DETAIL_LIMIT:
        raise RuleError(f"El detalle no puede superar {DETAIL_LIMIT} caracteres.")
    if kind == "rectification" and not detail:
        raise RuleError("Indica qué dato está mal y cuál es el correcto.")
    now = now or utcnow()
    request = PrivacyRequest(user_id=user.id, kind=kind, detail=detail, status="open", created_at=now,
                             due_at=now + timedelta(days=deadline_days()))
    request.events.append(RequestEvent(at=now, actor_id=user.id, kind="filed", text=detail))
    db.session.add(request)
    db.session.commit()
    return request


def requests_of(user: User) -> list[PrivacyRequest]:
    return list(db.session.execute(
        select(PrivacyRequest).where(PrivacyRequest.user_id == user.id).order_by(PrivacyRequest.id.desc())
    ).scalars())


def own_request_or_none(user: User, request_id: int) -> PrivacyRequest | None:
    """A participant sees only their own requests; anybody else's is 'not found'."""
    request = db.session.get(PrivacyRequest, request_id)
    return request if request is not None and request.user_id == user.id else None


def queue(status: str | None = "open") -> list[PrivacyRequest]:
    query = select(PrivacyRequest).order_by(PrivacyRequest.due_at, PrivacyRequest.id)
    if status in ("open", "answered"):
        query = query.where(PrivacyRequest.status == status)
    return list(db.session.execute(query).scalars())


def add_event(request: PrivacyRequest, actor: User, kind: str, text: str = "", now: datetime | None = None):
    request.events.append(RequestEvent(at=now or utcnow(), actor_id=actor.id, kind=kind, text=text.strip()))


def add_note(request: PrivacyRequest, actor: User, text: str) -> None:
    text = (text or "").strip()
    if not text:
        raise RuleError("Escribe la nota.")
    add_event(request, actor, "note", text[:DETAIL_LIMIT])
    db.session.commit()


def answer(request: PrivacyRequest, actor: User, outcome: str, text: str, now: datetime | None = None) -> None:
    """The answer the person sees; it closes the request. A second answer is refused (the first is kept)."""
    if request.status == "answered":
        raise RuleError("La solicitud ya fue respondida.")
    if outcome not in OUTCOMES:
        raise RuleError("Elige el resultado.")
    text = (text or "").strip()
    if not text:
        raise RuleError("Escribe la respuesta para la persona.")
    now = now or utcnow()
    request.status, request.outcome, request.answer, request.answered_at = "answered", outcome, text, now
    add_event(request, actor, "answer", f"{OUTCOMES[outcome]}: {text}", now)
    db.session.commit()


def is_overdue(request: PrivacyRequest, now: datetime | None = None) -> bool:
    return request.status == "open" and (now or utcnow()) > request.due_at


# --- Blocking -------------------------------------------------------------------------------------------


def is_blocked(user_id: int) -> bool:
    """True while the person's data must not be processed: no e-mail to or about them, no SIC upload."""
    return db.session.get(Block, user_id) is not None


def block(request: PrivacyRequest, actor: User) -> None:
    if request.user_id is None or is_blocked(request.user_id):
        raise RuleError("Esta persona ya está bloqueada.")
    db.session.add(Block(user_id=request.user_id, since=utcnow(), request_id=request.id))
    add_event(request, actor, "blocked", "Tratamiento bloqueado: sin correos ni envíos a SENCE/SIC.")
    db.session.commit()


def unblock(request: PrivacyRequest, actor: User) -> None:
    row = db.session.get(Block, request.user_id) if request.user_id else None
    if row is None:
        raise RuleError("Esta persona no está bloqueada.")
    db.session.delete(row)
    add_event(request, actor, "unblocked", "Bloqueo levantado.")
    db.session.commit()


# --- Access trail ---------------------------------------------------------------------------------------

ACCESS_ACTIONS = {
    "participant_detail": "Vio el detalle de un participante",
    "user_detail": "Vio la ficha de un usuario",
    "attendance_export": "Exportó la asistencia",
    "sessions_export": "Exportó las sesiones",
    "data_bundle": "Generó el ZIP de «Mis datos» de una persona",
    "trail_export": "Exportó el registro de accesos",
    "gradebook_export": "Exportó las calificaciones",
    "grades_detail": "Vio las calificaciones de un participante",
    "certificate_pdf": "Descargó el certificado de un participante",
    "certificates_zip": "Descargó los certificados de un curso",
    "closeout_bundle": "Descargó la evidencia de cierre de un curso",
    "sic_preview": "Vio la vista previa del envío SIC",
    "sic_log": "Vio el registro de envíos SIC",
}
TRAIL_PAGE = 100


def log_access(actor_id: int, action: str, *, path: str = "", course_id: int | None = None,
               subject_user_id: int | None = None, people: int = 1, now: datetime | None = None) -> AccessEvent:
    """Append one trail row in its own commit (the page or export it records changes nothing else)."""
    row = AccessEvent(at=now or utcnow(), actor_id=actor_id, action=action, path=path[:300], course_id=course_id,
                      subject_user_id=subject_user_id, people=people)
    db.session.add(row)
    db.session.commit()
    return row


def trail(page: int = 1, actor_id: int | None = None, subject_user_id: int | None = None):
    """One page of the trail, newest first, with the people it names; the flag says whether an older page exists."""
    query = select(AccessEvent).order_by(AccessEvent.at.desc(), AccessEvent.id.desc())
    if actor_id:
        query = query.where(AccessEvent.actor_id == actor_id)
    if subject_user_id:
        query = query.where(AccessEvent.subject_user_id == subject_user_id)
    if page:
        query = query.offset((page - 1) * TRAIL_PAGE).limit(TRAIL_PAGE + 1)
    rows = list(db.session.execute(query).scalars())
    more = bool(page) and len(rows) > TRAIL_PAGE
    rows = rows[:TRAIL_PAGE] if page else rows
    ids = {r.actor_id for r in rows} | {r.subject_user_id for r in rows}
    people = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids - {None})))
              .scalars()} if ids else {}
    return rows, people, more


def mask_run(run: str | None) -> str:
    """12345678-9 -> ••.•••.678-9: enough to tell two people apart in a list, not enough to use the RUN."""
    if not run or "-" not in run:
        return run or ""
    body, dv = run.rsplit("-", 1)
    return f"••.•••.{body[-3:]}-{dv}"

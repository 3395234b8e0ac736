"""The RCE flow: start a login/logout attempt, receive SENCE's answer, and what the participant sees.

Each public function that changes data is one transaction (it commits). Nothing here reads `request`:
the views pass what they parsed (form fields, remote address, Origin, Referer).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.sence import protocol, signals, tokens
from app.sence.gate import live_session
from app.sence.models import ABANDON_AFTER, Attempt, Exchange, SenceSession, SenceToken
from app.timeutil import CHILE, utcnow

RETOMA_PATH = "/s/r"
ERROR_PATH = "/s/e"
BASE_URL_SETTINGS = {
    "simulator": "SENCE_SIMULATOR_URL",
    "test": "SENCE_TEST_URL",
    "production": "SENCE_PRODUCTION_URL",
}
# The fields that make two deliveries "the same answer" (extra posted fields do not matter).
_SAME_ANSWER_FIELDS = protocol.ANSWER_FIELDS


class _LostRace(Exception):
    """Another delivery of the same answer claimed the attempt first."""


class NotReady(Exception):
    """The course cannot send anyone to SENCE yet; `str()` is a Spanish message for the participant."""


@dataclass
class Meta:
    """Where a request came from, for the exchange log."""

    remote_addr: str = ""
    origin: str = ""
    referer: str = ""

    def columns(self) -> dict:
        return {"remote_addr": self.remote_addr[:64], "origin": self.origin[:300], "referer": self.referer[:500]}


@dataclass
class Outgoing:
    """The auto-submitting form to SENCE: the only place the token is ever rendered."""

    attempt: Attempt
    action: str
    fields: dict[str, str]


@dataclass
class Outcome:
    """What a callback did: `result` is accepted | duplicate | refused; `status` opened | closed | failed."""

    result: str
    reason: str = ""
    attempt: Attempt | None = None
    status: str = ""
    errors: list = field(default_factory=list)

    @property
    def http_status(self) -> int:
        if self.result != "refused":
            return 200
        return 409 if self.reason in ("not_pending", "too_old") else 400


# --- Return URLs and readiness ---------------------------------------------------------------


def return_urls() -> tuple[str, str]:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + RETOMA_PATH, base + ERROR_PATH


def return_url_problems() -> list[str]:
    """Spanish messages when PUBLIC_BASE_URL makes UrlRetoma/UrlError unacceptable to SENCE."""
    retoma, error = return_urls()
    problems = [protocol.check_return_url(retoma, "UrlRetoma"), protocol.check_return_url(error, "UrlError")]
    return [f"{message} Acorte PUBLIC_BASE_URL ({current_app.config['PUBLIC_BASE_URL']})."
            for _, message in filter(None, problems)]


def base_url(environment: str) -> str:
    return current_app.config[BASE_URL_SETTINGS[environment]].rstrip("/")


def usable_token(otec_id: int | None, today=None) -> SenceToken | None:
    """The newest active, unexpired token of the OTEC (any valid one identifies it)."""
    if otec_id is None:
        return None
    today = today or utcnow().astimezone(CHILE).date()
    candidates = db.session.execute(
        select(SenceToken).where(SenceToken.otec_id == otec_id, SenceToken.revoked_at.is_(None))
        .order_by(SenceToken.added_at.desc(), SenceToken.id.desc())
    ).scalars()
    return next((token for token in candidates if tokens.is_usable(token, today)), None)


def course_problems(course) -> list[str]:
    """Why this course cannot send participants to SENCE now (admin wording), empty when ready."""
    settings = course.sence
    if settings is None:
        return ["El curso no tiene configuración SENCE."]
    problems = []
    if settings.environment == "simulator" and current_app.config["ENV"] == "production":
        problems.append("El curso está en el simulador y esta instalación de Pizarra está en producción.")
    if settings.otec is None:
        problems.append("No hay OTEC asignado al curso.")
    else:
        problems += [message for _, _, message in protocol.validate_rut_otec(settings.otec.rut)]
        if usable_token(settings.otec_id) is None:
            problems.append(f"El OTEC «{settings.otec.name}» no tiene un token SENCE activo y vigente.")
    problems += [message for _, _, message in protocol.validate_course_codes(
        settings.linea, settings.cod_sence, settings.codigo_curso, settings.environment)]
    return problems + return_url_problems()


# --- Starting an attempt ---------------------------------------------------------------------


def start_login(user, course, via_popup: bool, meta: Meta, now: datetime | None = None) -> Outgoing:
    """Create a login attempt with a fresh IdSesionAlumno and the form that takes the browser to SENCE."""
    now = now or utcnow()
    if live_session(user.id, course.id, now) is not None:
        raise NotReady("Ya tienes una sesión SENCE abierta en este curso. Ciérrala antes de iniciar otra.")
    return _start(user, course, "login", protocol.new_id_sesion_alumno(), None, via_popup, meta, now)


def start_logout(user, course, via_popup: bool, meta: Meta, now: datetime | None = None) -> Outgoing:
    """Create a logout attempt for the live session: same IdSesionAlumno, plus SENCE's IdSesionSence."""
    now = now or utcnow()
    session = live_session(user.id, course.id, now)
    if session is None:
        raise NotReady("No tienes una sesión SENCE abierta en este curso (puede haber vencido).")
    return _start(user, course, "logout", session.id_sesion_alumno, session, via_popup, meta, now)


def _start(user, course, kind, id_sesion_alumno, session, via_popup, meta, now) -> Outgoing:
    _check_ready(user, course)
    settings = course.sence
    token_row = usable_token(settings.otec_id, now.astimezone(CHILE).date())
    token = tokens.decrypt(token_row.token_encrypted)
    retoma, error = return_urls()
    common = {"rut_otec": settings.otec.rut, "token": token, "cod_sence": settings.cod_sence,
              "codigo_curso": settings.codigo_curso, "linea": settings.linea, "run_alumno": user.run or "",
              "id_sesion_alumno": id_sesion_alumno, "url_retoma": retoma, "url_error": error}
    if kind == "login":
        fields, action = protocol.login_fields(**common), protocol.login_url(base_url(settings.environment))
    else:
        fields = protocol.logout_fields(id_sesion_sence=session.id_sesion_sence, **common)
        action = protocol.logout_url(base_url(settings.environment))
    attempt = Attempt(
        kind=kind, id_sesion_alumno=id_sesion_alumno, user_id=user.id, course_id=course.id,
        session_id=session.id if session else None, token_id=token_row.id, environment=settings.environment,
        run_alumno=fields["RunAlumno"], cod_sence=fields["CodSence"], codigo_curso=fields["CodigoCurso"],
        linea=settings.linea, via_popup=via_popup, status="pending", created_at=now,
    )
    db.session.add(attempt)
    db.session.flush()
    endpoint = protocol.LOGIN_PATH if kind == "login" else protocol.LOGOUT_PATH
    db.session.add(Exchange(at=now, direction="out", endpoint=endpoint.rsplit("/", 1)[-1], attempt_id=attempt.id,
                            fields=protocol.redact(fields), outcome="sent", **meta.columns()))
    db.session.commit()
    return Outgoing(attempt, action, fields)


def _check_ready(user, course) -> None:
    if not user.run:
        raise NotReady("Tu perfil no tiene RUN registrado. Contacta a tu OTEC para que lo agregue.")
    problems = course_problems(course)
    if problems:
        current_app.logger.warning("SENCE not ready for course %s: %s", course.id, "; ".join(problems))
        raise NotReady("El registro de asistencia SENCE de este curso aún no está bien configurado. "
                       "Contacta a tu OTEC e indícale que revise la configuración SENCE del curso.")


# --- Receiving an answer ---------------------------------------------------------------------


def receive_answer(endpoint: str, form, meta: Meta, now: datetime | None = None) -> Outcome:
    """Handle a POST to UrlRetoma ("retoma") or UrlError ("error"); always logs one "in" exchange.

    The POST is unsigned and carries no cookie: the unguessable IdSesionAlumno of a pending, recent
    attempt whose RUN and course codes match is what makes it credible.
    """
    now = now or utcnow()
    answer = protocol.parse_answer(form)
    answer.is_error = answer.is_error or endpoint == "error"  # UrlError without GlosaError is still an error
    exchange = Exchange(at=now, direction="in", endpoint=endpoint, fields=answer.raw, **meta.columns())
    outcome = _judge(answer, now)
    if outcome.result == "accepted":
        try:
            _apply(outcome, answer, now)
            exchange.attempt_id = outcome.attempt.id
            exchange.outcome = "accepted"
            db.session.add(exchange)
            db.session.commit()
            return outcome
        except (IntegrityError, _LostRace):
            db.session.rollback()
            outcome = _judge(answer, now)
    exchange.attempt_id = outcome.attempt.id if outcome.attempt else None
    exchange.outcome = outcome.result if outcome.result != "refused" else f"refused:{outcome.reason}"
    db.session.add(exchange)
    db.session.commit()
    return outcome


def _judge(answer: protocol.Answer, now: datetime) -> Outcome:
    """Which attempt this answer is for, and whether to accept it, without changing anything."""
    if not answer.id_sesion_alumno:
        return Outcome("refused", "missing_id")
    attempts = db.session.execute(
        select(Attempt).where(Attempt.id_sesion_alumno == answer.id_sesion_alumno)
        .order_by(Attempt.created_at.desc(), Attempt.id.desc())
    ).scalars().all()
    if not attempts:
        return Outcome("refused", "unknown")
    for attempt in attempts:
        if attempt.status != "pending" and _same_answer(attempt.answer_fields, answer.raw):
            return Outcome("duplicate", attempt=attempt, status=result_status(attempt), errors=_errors(attempt))
    pending = next((a for a in attempts if a.status == "pending"), None)
    if pending is None:
        return Outcome("refused", "not_pending", attempts[0])
    if now - pending.created_at > ABANDON_AFTER:
        return Outcome("refused", "too_old", pending)
    mismatch = _mismatch(pending, answer)
    if mismatch:
        return Outcome("refused", mismatch, pending)
    return Outcome("accepted", attempt=pending)


def _same_answer(stored: dict | None, raw: dict) -> bool:
    if not stored:
        return False
    return all((stored.get(name) or "") == (raw.get(name) or "") for name in _SAME_ANSWER_FIELDS)


def _mismatch(attempt: Attempt, answer: protocol.Answer) -> str:
    """A reason when the answer names another participant or course than the attempt sent.

    A success must echo every value; an error may come back with fields blank (SENCE answers 200 when
    one was missing), so only the values present are compared.
    """
    strict = not answer.is_error
    if _differs(_run(answer.run_alumno), attempt.run_alumno, strict):
        return "run_mismatch"
    if _differs(answer.cod_sence, attempt.cod_sence, strict and bool(attempt.cod_sence)) or _differs(
        answer.codigo_curso, attempt.codigo_curso, strict
    ):
        return "course_mismatch"
    if _differs(answer.linea_capacitacion, str(attempt.linea), strict):
        return "course_mismatch"
    if attempt.kind == "login" and strict and not answer.id_sesion_sence:
        return "incomplete"
    if attempt.kind == "logout" and answer.id_sesion_sence and attempt.session is not None \
            and answer.id_sesion_sence != attempt.session.id_sesion_sence:
        return "session_mismatch"
    return ""


def _differs(received: str, sent: str, strict: bool) -> bool:
    if not received and not strict:
        return False
    return received.strip().upper() != (sent or "").strip().upper()


def _run(value: str) -> str:
    try:
        return protocol.sence_run(value)
    except ValueError:
        return value


def _apply(outcome: Outcome, answer: protocol.Answer, now: datetime) -> None:
    """Claim the pending attempt (a conditional UPDATE, so two deliveries cannot both win) and record it."""
    attempt = outcome.attempt
    new_status = "failed" if answer.is_error else "succeeded"
    claimed = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == "pending")
        .values(status=new_status, answered_at=now, answer_fields=answer.raw,
                error_codes=";".join(answer.error_codes)[:200])
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise _LostRace()
    db.session.refresh(attempt)
    if attempt.kind == "login":
        _apply_login(attempt, answer, now)
    else:
        _apply_logout(attempt, answer, now)
    outcome.status, outcome.errors = result_status(attempt), _errors(attempt)


def _apply_login(attempt: Attempt, answer: protocol.Answer, now: datetime) -> None:
    if answer.is_error:
        signals.attempt_failed.send(attempt)
        return
    started_at, flagged = protocol.parse_fecha_hora(answer.fecha_hora, answer.zona_horaria, now)
    limit = attempt.course.sence.session_limit_minutes if attempt.course.sence else 180
    session = SenceSession(
        user_id=attempt.user_id, course_id=attempt.course_id, login_attempt_id=attempt.id,
        id_sesion_alumno=attempt.id_sesion_alumno, id_sesion_sence=answer.id_sesion_sence,
        environment=attempt.environment, started_at=started_at, started_raw=answer.fecha_hora[:40],
        zona_horaria=answer.zona_horaria, time_flagged=flagged,
        expires_at=started_at + timedelta(minutes=limit), status="open",
    )
    db.session.add(session)
    db.session.flush()  # the unique login_attempt_id stops a concurrent duplicate here
    attempt.session_id = session.id
    signals.session_opened.send(session)


def _apply_logout(attempt: Attempt, answer: protocol.Answer, now: datetime) -> None:
    session = attempt.session
    if answer.is_error:
        if session is not None and session.status != "closed":
            session.status = "close_failed"
            session.close_error_codes = attempt.error_codes
        signals.attempt_failed.send(attempt)
        return
    if session is not None:
        closed_at, _ = protocol.parse_fecha_hora(answer.fecha_hora, answer.zona_horaria, now)
        session.status, session.closed_at, session.closed_raw = "closed", closed_at, answer.fecha_hora[:40]
        session.close_error_codes = ""
        signals.session_closed.send(session)


def result_status(attempt: Attempt) -> str:
    if attempt.status == "failed":
        return "failed"
    return "opened" if attempt.kind == "login" else "closed"


def _errors(attempt: Attempt) -> list:
    if attempt.status != "failed":
        return []
    codes = protocol.parse_glosa(attempt.error_codes)
    return [protocol.describe(code) for code in codes] or [protocol.describe(None)]


# --- What the participant sees ---------------------------------------------------------------


def last_attempt(user_id: int, course_id: int) -> Attempt | None:
    return db.session.execute(
        select(Attempt).where(Attempt.user_id == user_id, Attempt.course_id == course_id)
        .order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(1)
    ).scalar_one_or_none()


def failure_guidance(user_id: int, course_id: int) -> tuple[Attempt, list] | None:
    """The latest attempt and its errors when it failed (a later attempt hides an older failure)."""
    attempt = last_attempt(user_id, course_id)
    if attempt is None or attempt.status != "failed":
        return None
    return attempt, _errors(attempt)


def owned_attempt(attempt_id: int, user_id: int) -> Attempt | None:
    attempt = db.session.get(Attempt, attempt_id)
    return attempt if attempt is not None and attempt.user_id == user_id else None


REFUSAL_TEXT = {
    "missing_id": "La respuesta no indica a qué intento corresponde.",
    "unknown": "La respuesta no corresponde a ningún intento de inicio o cierre de sesión SENCE de esta plataforma.",
    "not_pending": "Esa respuesta ya fue procesada o corresponde a un intento que ya terminó.",
    "too_old": "La respuesta de SENCE llegó demasiado tarde: el intento ya se había dado por abandonado "
               f"({int(ABANDON_AFTER.total_seconds() // 60)} minutos).",
    "run_mismatch": "La respuesta indica un RUN distinto al del participante que inició el intento.",
    "course_mismatch": "La respuesta indica códigos de curso distintos a los enviados.",
    "session_mismatch": "La respuesta indica una sesión SENCE distinta a la que se estaba cerrando.",
    "incomplete": "La respuesta de SENCE no trae el identificador de sesión (IdSesionSence).",
}


def refusal_message(reason: str) -> str:
    return REFUSAL_TEXT.get(reason, "La respuesta no se pudo aceptar.")

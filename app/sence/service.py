"""The RCE flow: start a login/logout attempt, receive SENCE's answer, and what the participant sees.

Each public function that changes data is one transaction (it commits). Nothing here reads `request`:
the views pass what they parsed (form fields, remote address, Origin, Referer).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.sence import protocol, signals, tokens
from app.sence.gate import latest_attempt, live_session
from app.sence.models import LIVE_STATUSES, Attempt, Exchange, SenceSession, SenceToken
from app.timeutil import today_in_chile, utcnow

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
    flags: list = field(default_factory=list)  # Exchange.flags of the "in" exchange: clock, origin, superseded

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
    today = today or today_in_chile()
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
    """Create a login attempt with a fresh IdSesionAlumno and the form that takes the browser to SENCE.

    Earlier attempts still pending do not block a new one (ClaveÚnica may hold them for hours); whichever
    success arrives first opens the session, a later one is kept as superseded (`_apply_login`).
    """
    now = now or utcnow()
    if live_session(user.id, course.id, now) is not None:
        raise NotReady("Ya tienes una sesión SENCE abierta en este curso. Ciérrala antes de iniciar otra.")
    _check_ready(user, course)
    settings = course.sence
    token_row = usable_token(settings.otec_id, today_in_chile(now))
    base = base_url(settings.environment)
    fields = protocol.login_fields(
        rut_otec=settings.otec.rut, token=tokens.decrypt(token_row.token_encrypted), cod_sence=settings.cod_sence,
        codigo_curso=settings.codigo_curso, linea=settings.linea, run_alumno=user.run or "",
        id_sesion_alumno=protocol.new_id_sesion_alumno(), **_return_fields())
    limit = timedelta(minutes=settings.session_limit_minutes or 180)
    attempt = Attempt(
        kind="login", id_sesion_alumno=fields["IdSesionAlumno"], user_id=user.id, course_id=course.id,
        token_id=token_row.id, environment=settings.environment, rut_otec=fields["RutOtec"], base_url=base,
        run_alumno=fields["RunAlumno"], cod_sence=fields["CodSence"], codigo_curso=fields["CodigoCurso"],
        linea=settings.linea, via_popup=via_popup, status="pending", created_at=now, answerable_until=now + limit,
    )
    return _send(attempt, protocol.login_url(base), fields, meta, now)


def start_logout(user, course, via_popup: bool, meta: Meta, now: datetime | None = None) -> Outgoing:
    """Create a logout attempt bound to the live session: everything as that session's login sent it.

    Manual v1.1.6 §3.3 wants the same IdSesionSence and IdSesionAlumno; SENCE answers 301/313 when the RUT,
    codes, line or environment differ. So environment, URL, RutOtec, codes, line and RUN come from the login
    attempt, never from today's course settings (an admin may have switched the course to production since).
    """
    now = now or utcnow()
    session = live_session(user.id, course.id, now)
    if session is None:
        raise NotReady("No tienes una sesión SENCE abierta en este curso (puede haber vencido).")
    login = session.login_attempt
    if return_url_problems():
        raise NotReady(_NOT_READY)
    token_row = _logout_token(login, course, now)
    base = login.base_url or base_url(session.environment)
    fields = protocol.logout_fields(
        rut_otec=login.rut_otec or course.sence.otec.rut, token=tokens.decrypt(token_row.token_encrypted),
        cod_sence=login.cod_sence, codigo_curso=login.codigo_curso, linea=login.linea, run_alumno=login.run_alumno,
        id_sesion_alumno=session.id_sesion_alumno, id_sesion_sence=session.id_sesion_sence, **_return_fields())
    attempt = Attempt(
        kind="logout", id_sesion_alumno=session.id_sesion_alumno, user_id=user.id, course_id=course.id,
        session_id=session.id, token_id=token_row.id, environment=session.environment, rut_otec=fields["RutOtec"],
        base_url=base, run_alumno=fields["RunAlumno"], cod_sence=fields["CodSence"],
        codigo_curso=fields["CodigoCurso"], linea=login.linea, via_popup=via_popup, status="pending",
        created_at=now, answerable_until=now + (session.expires_at - session.started_at),
    )
    return _send(attempt, protocol.logout_url(base), fields, meta, now)


def _logout_token(login: Attempt, course, now: datetime) -> SenceToken:
    """The exact token the login used; if it was revoked or expired since, another valid one of the same OTEC.

    Any valid token identifies the OTEC (RCE-PROTOCOL.md), and a revoked one would only earn a 212.
    """
    today = today_in_chile(now)
    original = db.session.get(SenceToken, login.token_id) if login.token_id else None
    if original is not None and tokens.is_usable(original, today):
        return original
    otec_id = original.otec_id if original is not None else (course.sence.otec_id if course.sence else None)
    replacement = usable_token(otec_id, today)
    if replacement is None:
        raise NotReady(_NOT_READY)
    return replacement


def _return_fields() -> dict[str, str]:
    retoma, error = return_urls()
    return {"url_retoma": retoma, "url_error": error}


def _send(attempt: Attempt, action: str, fields: dict, meta: Meta, now: datetime) -> Outgoing:
    """Store the attempt and its "out" exchange (token redacted) in one transaction."""
    db.session.add(attempt)
    db.session.flush()
    endpoint = protocol.LOGIN_PATH if attempt.kind == "login" else protocol.LOGOUT_PATH
    db.session.add(Exchange(at=now, direction="out", endpoint=endpoint.rsplit("/", 1)[-1], attempt_id=attempt.id,
                            fields=protocol.redact(fields), outcome="sent", **meta.columns()))
    db.session.commit()
    return Outgoing(attempt, action, fields)


_NOT_READY = ("El registro de asistencia SENCE de este curso aún no está bien configurado. "
              "Contacta a tu OTEC e indícale que revise la configuración SENCE del curso.")


def _check_ready(user, course) -> None:
    if not user.run:
        raise NotReady("Tu perfil no tiene RUN registrado. Contacta a tu OTEC para que lo agregue.")
    problems = course_problems(course)
    if problems:
        current_app.logger.warning("SENCE not ready for course %s: %s", course.id, "; ".join(problems))
        raise NotReady(_NOT_READY)


# --- Receiving an answer ---------------------------------------------------------------------


def receive_answer(endpoint: str, form, meta: Meta, now: datetime | None = None) -> Outcome:
    """Handle a POST to UrlRetoma ("retoma") or UrlError ("error"); always logs one "in" exchange.

    In: the raw posted fields, where the request came from (`meta`: address, Origin, Referer) and the
    arrival time (`now`, our clock: it times the session). Out: what was done, for the view to render.
    The POST is unsigned and carries no cookie: the unguessable IdSesionAlumno of a pending attempt, still
    within its answer window, whose RUN and course codes match is what makes it credible.
    """
    now = now or utcnow()
    answer = protocol.parse_answer(form)
    answer.is_error = answer.is_error or endpoint == "error"  # UrlError without GlosaError is still an error
    for _ in range(2):  # a lost race (another delivery, or a concurrent second login) is judged again once
        outcome = _judge(answer, now)
        if outcome.result != "accepted":
            break
        try:
            _apply(outcome, answer, now)
            _log_answer(endpoint, answer, meta, now, outcome)
            db.session.commit()
            return outcome
        except (IntegrityError, _LostRace):
            db.session.rollback()
    if outcome.result == "accepted":  # lost twice: say so rather than pretend it was recorded
        outcome = Outcome("refused", "not_pending", outcome.attempt)
    _log_answer(endpoint, answer, meta, now, outcome)
    db.session.commit()
    return outcome


def _log_answer(endpoint: str, answer, meta: Meta, now: datetime, outcome: Outcome) -> None:
    attempt = outcome.attempt
    if not origin_verified(meta.origin, attempt):
        outcome.flags.append("origin")
    exchange = Exchange(at=now, direction="in", endpoint=endpoint, fields=answer.raw, **meta.columns(),
                        attempt_id=attempt.id if attempt else None, flags=",".join(dict.fromkeys(outcome.flags)))
    exchange.outcome = outcome.result if outcome.result != "refused" else f"refused:{outcome.reason}"
    db.session.add(exchange)


def sence_origins(environment: str | None, attempt_base: str = "") -> set[str]:
    """The origins SENCE's answer may come from for an environment (all of them when it is unknown)."""
    environments = [environment] if environment in BASE_URL_SETTINGS else list(BASE_URL_SETTINGS)
    bases = [base_url(env) for env in environments] + ([attempt_base] if attempt_base else [])
    return {_origin(base) for base in bases}


def origin_verified(origin: str, attempt: Attempt | None) -> bool:
    """SENCE's real Origin is not documented: its own origin or `null` (a redirect chain) pass, others are flagged.

    A missing Origin is flagged too: browsers send one with every cross-site POST, scripts often do not.
    """
    origin = (origin or "").strip()
    if origin == "null":
        return True
    environment = attempt.environment if attempt else None
    return bool(origin) and origin.rstrip("/") in sence_origins(environment, attempt.base_url if attempt else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
            return Outcome("duplicate", attempt=attempt, status=result_status(attempt), errors=attempt_errors(attempt))
    pending = next((a for a in attempts if a.status == "pending"), None)
    if pending is None:
        return Outcome("refused", "not_pending", attempts[0])
    if now > pending.deadline:
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
    apply = _apply_login if attempt.kind == "login" else _apply_logout
    outcome.flags = apply(attempt, answer, now)
    if not answer.is_error:
        signals.attempt_succeeded.send(attempt)
    outcome.status, outcome.errors = result_status(attempt), attempt_errors(attempt)


def _apply_login(attempt: Attempt, answer: protocol.Answer, now: datetime) -> list[str]:
    """Open the session, timed from `now`; a second success while one is live is kept as superseded.

    Which one stands: the session already open. Its timer, its close button and (through SENCE) its hours
    are what the participant has been using; the newer success is recorded (session "superseded", flagged
    in the log) but is never live and never counted, so overlapping time cannot count twice. SENCE leaves
    that second session unclosed, which it does not count either.
    """
    if answer.is_error:
        signals.attempt_failed.send(attempt)
        return []
    expire_stale(attempt.user_id, attempt.course_id, now)
    evidence, unreadable = protocol.parse_fecha_hora(answer.fecha_hora, answer.zona_horaria, now)
    flags = ["clock"] if unreadable or _discrepant(evidence, now) else []
    standing = live_session(attempt.user_id, attempt.course_id, now)
    if standing is not None:
        flags.append("superseded")
    limit = attempt.course.sence.session_limit_minutes if attempt.course.sence else 180
    session = SenceSession(
        user_id=attempt.user_id, course_id=attempt.course_id, login_attempt_id=attempt.id,
        id_sesion_alumno=attempt.id_sesion_alumno, id_sesion_sence=answer.id_sesion_sence,
        environment=attempt.environment, started_at=now, sence_started_at=None if unreadable else evidence,
        started_raw=answer.fecha_hora[:40], zona_horaria=answer.zona_horaria, time_flagged="clock" in flags,
        expires_at=now + timedelta(minutes=limit), status="superseded" if standing else "open",
    )
    db.session.add(session)
    db.session.flush()  # unique login_attempt_id and one-live-session index stop concurrent duplicates here
    attempt.session_id = session.id
    if standing is None:
        signals.session_opened.send(session)
    return flags


def _apply_logout(attempt: Attempt, answer: protocol.Answer, now: datetime) -> list[str]:
    """Close the session at `now` (our clock); SENCE's FechaHora is kept beside it.

    Both logout answer tables describe FechaHora as the *start* of the session, so it is compared with our
    close time and with our start time, and flagged only when it matches neither.
    """
    session = attempt.session
    if answer.is_error:
        if session is not None and session.status in LIVE_STATUSES:
            session.status = "close_failed"
            session.close_error_codes = attempt.error_codes
        signals.attempt_failed.send(attempt)
        return []
    if session is None:
        return []
    evidence, unreadable = protocol.parse_fecha_hora(answer.fecha_hora, answer.zona_horaria, now)
    off = unreadable or (_discrepant(evidence, now) and _discrepant(evidence, session.started_at))
    session.status, session.closed_at, session.closed_raw = "closed", now, answer.fecha_hora[:40]
    session.sence_closed_at = None if unreadable else evidence
    session.time_flagged = session.time_flagged or off
    session.close_error_codes = ""
    signals.session_closed.send(session)
    return ["clock"] if off else []


def _discrepant(evidence: datetime, ours: datetime) -> bool:
    tolerance = timedelta(minutes=current_app.config.get("SENCE_CLOCK_TOLERANCE_MINUTES", 10))
    return abs(evidence - ours) > tolerance


def expire_stale(user_id: int | None = None, course_id: int | None = None, now: datetime | None = None) -> int:
    """Give sessions that passed their limit without a close the terminal state "expired" (no commit).

    Called when a later session opens (so no stale "Sesión expirada" outlives it) and by the sweep for all.
    """
    now = now or utcnow()
    query = update(SenceSession).where(SenceSession.status.in_(LIVE_STATUSES), SenceSession.expires_at <= now)
    if user_id is not None:
        query = query.where(SenceSession.user_id == user_id, SenceSession.course_id == course_id)
    return db.session.execute(query.values(status="expired").execution_options(synchronize_session="fetch")
                              ).rowcount


def result_status(attempt: Attempt) -> str:
    if attempt.status == "failed":
        return "failed"
    return "opened" if attempt.kind == "login" else "closed"


def attempt_errors(attempt: Attempt) -> list:
    if attempt.status != "failed":
        return []
    codes = protocol.parse_glosa(attempt.error_codes)
    return [protocol.describe(code) for code in codes] or [protocol.describe(None)]


# --- What the participant sees ---------------------------------------------------------------


# After this long without an answer the participant is told what to do: SENCE sends nothing when ClaveÚnica
# is abandoned or its password is wrong, so there is no error to show.
NO_ANSWER_HINT_AFTER = timedelta(minutes=3)

RETRY_ADVICE = {
    "participant": "Puedes intentarlo de nuevo de inmediato.",
    "sence": "El problema es de SENCE, no tuyo: espera unos minutos antes de volver a intentarlo; "
             "si se repite, avisa a tu OTEC.",
    "otec": "Reintentar no lo resolverá: tu OTEC debe corregirlo. Avísale con el código que aparece abajo; "
            "cuando lo haya corregido, vuelve a intentarlo.",
}


def retry_advice(errors: list) -> str:
    """Say "inténtalo de nuevo" only when retrying can help: the OTEC's problems first, then SENCE's."""
    who = {error.who for error in errors}
    for party in ("otec", "sence"):
        if party in who:
            return RETRY_ADVICE[party]
    return RETRY_ADVICE["participant"] if who else RETRY_ADVICE["sence"]


def failure_guidance(user_id: int, course_id: int, attempt: Attempt | None = None) -> tuple[Attempt, list] | None:
    """The latest attempt and its errors when it failed (a later attempt hides an older failure)."""
    attempt = attempt or latest_attempt(user_id, course_id)
    if attempt is None or attempt.status != "failed":
        return None
    return attempt, attempt_errors(attempt)


def waiting_attempt(attempt: Attempt | None, now: datetime | None = None) -> tuple[Attempt, bool] | None:
    """The latest attempt when it still awaits SENCE's answer, and whether it has waited long enough for advice."""
    now = now or utcnow()
    if attempt is None or attempt.status != "pending" or now > attempt.deadline:
        return None
    return attempt, now - attempt.created_at >= NO_ANSWER_HINT_AFTER


def owned_attempt(attempt_id: int, user_id: int) -> Attempt | None:
    attempt = db.session.get(Attempt, attempt_id)
    return attempt if attempt is not None and attempt.user_id == user_id else None


REFUSAL_TEXT = {
    "missing_id": "La respuesta no indica a qué intento corresponde.",
    "unknown": "La respuesta no corresponde a ningún intento de inicio o cierre de sesión SENCE de esta plataforma.",
    "not_pending": "Esa respuesta ya fue procesada o corresponde a un intento que ya terminó.",
    "too_old": "La respuesta de SENCE llegó después del plazo en que una sesión podía seguir abierta: "
               "el intento ya se había dado por abandonado.",
    "run_mismatch": "La respuesta indica un RUN distinto al del participante que inició el intento.",
    "course_mismatch": "La respuesta indica códigos de curso distintos a los enviados.",
    "session_mismatch": "La respuesta indica una sesión SENCE distinta a la que se estaba cerrando.",
    "incomplete": "La respuesta de SENCE no trae el identificador de sesión (IdSesionSence).",
}


def refusal_message(reason: str) -> str:
    return REFUSAL_TEXT.get(reason, "La respuesta no se pudo aceptar.")

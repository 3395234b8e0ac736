"""The Registro SENCE page: attempts, sessions and exchanges of one course, filtered and paginated.

Also the one place that turns the log's stored values (English codes kept as evidence) into Spanish words.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select

from app.auth.models import User
from app.extensions import db
from app.sence.models import ABANDON_AFTER, Attempt, Exchange, SenceSession
from app.timeutil import CHILE, utcnow

PER_PAGE = 25
RESULTS = {"exitoso": "Exitoso", "fallido": "Fallido o rechazado", "en_curso": "En curso"}

VALUE_LABELS = {
    # exchange outcomes
    "sent": "enviado", "accepted": "aceptado", "duplicate": "duplicado (ya registrado)", "refused": "rechazado",
    # refusal reasons (app/sence/service.py, _judge)
    "missing_id": "sin IdSesionAlumno", "unknown": "IdSesionAlumno desconocido",
    "not_pending": "el intento ya tenía respuesta", "too_old": "el intento era demasiado antiguo",
    "run_mismatch": "RUN distinto del enviado", "course_mismatch": "curso distinto del enviado",
    "incomplete": "respuesta incompleta", "session_mismatch": "IdSesionSence distinto",
    # environments
    "simulator": "Simulador", "test": "Pruebas (rcetest)", "production": "Producción (rce)",
    # directions
    "out": "enviado", "in": "recibido",
}


def spanish(value) -> str:
    """"refused:run_mismatch" -> "rechazado: RUN distinto del enviado"; unknown values are shown as stored."""
    text = str(value or "")
    if ":" in text:
        head, _, reason = text.partition(":")
        return f"{VALUE_LABELS.get(head, head)}: {VALUE_LABELS.get(reason, reason)}"
    return VALUE_LABELS.get(text, text)


@dataclass
class LogFilters:
    participant: str = ""
    result: str = ""
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.participant or self.result or self.since or self.until)

    def args(self) -> dict:
        """The filters as query-string arguments (for the pagination links)."""
        values = {"participante": self.participant, "resultado": self.result,
                  "desde": self.since.isoformat() if self.since else "",
                  "hasta": self.until.isoformat() if self.until else ""}
        return {key: value for key, value in values.items() if value}


def parse_filters(args) -> tuple[LogFilters, list[str]]:
    """Filters from the query string; an unreadable value is dropped and reported in Spanish."""
    errors = []
    filters = LogFilters(participant=(args.get("participante") or "").strip()[:100])
    result = args.get("resultado") or ""
    if result and result not in RESULTS:
        errors.append("Resultado desconocido: se muestran todos.")
    else:
        filters.result = result
    for key, attr, label in (("desde", "since", "desde"), ("hasta", "until", "hasta")):
        raw = (args.get(key) or "").strip()
        if raw:
            try:
                setattr(filters, attr, date.fromisoformat(raw))
            except ValueError:
                errors.append(f"La fecha «{label}» no es válida (usa el selector de fecha).")
    return filters, errors


def _utc_range(filters: LogFilters) -> tuple[datetime | None, datetime | None]:
    """Chile's calendar days, as UTC instants: from the start of `since` to the end of `until`."""
    start = datetime.combine(filters.since, time(), CHILE) if filters.since else None
    end = datetime.combine(filters.until + timedelta(days=1), time(), CHILE) if filters.until else None
    return start, end


def _common(query, column, filters: LogFilters, user_id_column):
    start, end = _utc_range(filters)
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    if filters.participant:
        pattern = f"%{filters.participant}%"
        query = query.join(User, User.id == user_id_column).where(
            or_(User.full_name.ilike(pattern), User.run.ilike(pattern), User.email.ilike(pattern)))
    return query


def attempts_query(course_id: int, filters: LogFilters, now: datetime):
    query = _common(select(Attempt).where(Attempt.course_id == course_id), Attempt.created_at, filters,
                    Attempt.user_id)
    fresh = Attempt.created_at >= now - ABANDON_AFTER
    conditions = {"exitoso": Attempt.status == "succeeded",
                  "fallido": or_(Attempt.status == "failed", and_(Attempt.status == "pending", ~fresh)),
                  "en_curso": and_(Attempt.status == "pending", fresh)}
    if filters.result:
        query = query.where(conditions[filters.result])
    return query.order_by(Attempt.created_at.desc(), Attempt.id.desc())


def sessions_query(course_id: int, filters: LogFilters, now: datetime):
    query = _common(select(SenceSession).where(SenceSession.course_id == course_id), SenceSession.started_at,
                    filters, SenceSession.user_id)
    running = and_(SenceSession.status == "open", SenceSession.expires_at > now)
    expired = and_(SenceSession.status == "open", SenceSession.expires_at <= now)
    conditions = {"exitoso": SenceSession.status == "closed",
                  "fallido": or_(SenceSession.status == "close_failed", expired), "en_curso": running}
    if filters.result:
        query = query.where(conditions[filters.result])
    return query.order_by(SenceSession.started_at.desc(), SenceSession.id.desc())


def exchanges_query(course_id: int, filters: LogFilters):
    query = select(Exchange).join(Attempt, Exchange.attempt_id == Attempt.id).where(Attempt.course_id == course_id)
    query = _common(query, Exchange.at, filters, Attempt.user_id)
    conditions = {"exitoso": Exchange.outcome.in_(("accepted", "sent", "duplicate")),
                  "fallido": Exchange.outcome.like("refused%"), "en_curso": Exchange.outcome == ""}
    if filters.result:
        query = query.where(conditions[filters.result])
    return query.order_by(Exchange.at.desc(), Exchange.id.desc())


def course_log(course_id: int, filters: LogFilters, pages: dict[str, int], now: datetime | None = None) -> dict:
    """One page of each table; `pages` holds the page number of each ("attempts", "sessions", "exchanges")."""
    now = now or utcnow()
    queries = {"attempts": attempts_query(course_id, filters, now), "sessions": sessions_query(course_id, filters, now),
               "exchanges": exchanges_query(course_id, filters)}
    return {name: db.paginate(query, page=pages.get(name, 1), per_page=PER_PAGE, error_out=False)
            for name, query in queries.items()}

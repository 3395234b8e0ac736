"""Outbox rules: failure alerts, close reminders, the sweep and sending with back-off.

Why the participant's request never sends mail: the SENCE callback only adds outbox rows inside its own
transaction (through the signal receivers below); `flask sweep`, run every minute, queues time-driven mail
and sends what is due. Failure alerts are held for ALERT_WINDOW anyway (to group a participant's repeated
failures), so sending right after the callback's commit would gain nothing and would put SMTP latency or
errors next to the participant's request.

Several sweeps may run at once: rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL
(a no-op on SQLite, which has a single writer), and an attempt is reported once thanks to the primary key
of AttemptNotice.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.auth.models import User
from app.extensions import db
from app.notify.mailer import Mailer, PermanentFailure, TransientFailure
from app.notify.models import ALERT_WINDOW, AttemptNotice, OutboxMessage
from app.privacy.models import Block
from app.sence import service as sence_service
from app.sence import signals
from app.sence.models import ABANDON_AFTER, Attempt, SenceSession
from app.sence.protocol import LINEAS, describe
from app.timeutil import format_chile, utcnow

log = logging.getLogger(__name__)

REMINDER_BEFORE = timedelta(minutes=15)
ABANDONED_LOOKBACK = timedelta(hours=24)  # older abandoned attempts (sweep down for a day) are not reported
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
SEND_BATCH = 2000
SEND_SECONDS = 45  # a sweep started every minute stops sending before the next one starts
ENVIRONMENT_LABELS = {"simulator": "Simulador", "test": "Pruebas (rcetest)", "production": "Producción (rce)"}
KIND_LABELS = {"login": "inicio de sesión", "logout": "cierre de sesión"}


@dataclass
class SweepResult:
    reminders: int = 0
    alerts: int = 0
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    queued: dict[str, int] = field(default_factory=dict)  # other features' mail: Producer.label -> messages
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        extra = "".join(f", {label}: {count}" for label, count in self.queued.items())
        return (f"recordatorios: {self.reminders}, fallas reportadas: {self.alerts}, enviados: {self.sent}, "
                f"con error: {self.failed}, pendientes: {self.waiting}{extra}")


@dataclass(frozen=True)
class Producer:
    """Another feature's time-driven mail, queued by the sweep before sending. notify knows it only through this:
    the features built on notify hand their producers in (app/sweep.py), notify never imports them."""

    label: str  # Spanish, for the summary line: "avisos de cierre de curso"
    queue: Callable[[datetime], int]  # queues what is due at `now`, commits, returns the messages queued


# --- Writing to the outbox ------------------------------------------------------------------------------


def _one_line(text: str, limit: int = 300) -> str:
    """Header-safe text: a name with a line break must not break (or inject into) the e-mail headers."""
    return " ".join((text or "").split())[:limit]


def _render(template: str, **context) -> str:
    return current_app.jinja_env.get_template(template).render(**context)


def enqueue(kind: str, recipients: list[str], subject: str, body: str, *, now: datetime | None = None,
            **fields) -> OutboxMessage:
    """Add a message to the current transaction; the caller commits (or its request does)."""
    now = now or utcnow()
    held_until = fields.get("group_until")  # an alert still collecting failures goes out when its window ends
    message = OutboxMessage(kind=kind, to_addrs=", ".join(recipients), subject=_one_line(subject), body=body,
                            status="pending", created_at=now, next_attempt_at=held_until or now, attempts=0,
                            last_error="", **fields)
    db.session.add(message)
    return message


# --- Failure alerts -------------------------------------------------------------------------------------


def _claim_attempt(attempt_id: int, now: datetime) -> bool:
    """Record that `attempt_id` is being reported; False when someone (another sweep) already did."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(AttemptNotice).values(attempt_id=attempt_id, created_at=now)
    statement = statement.on_conflict_do_nothing(index_elements=["attempt_id"]).returning(AttemptNotice.attempt_id)
    return db.session.execute(statement).first() is not None


def _failure_entry(attempt: Attempt, abandoned: bool, now: datetime) -> dict:
    """`abandoned` = no answer after ABANDON_AFTER; `until` = when an answer still counts (it may yet arrive)."""
    at = attempt.created_at if abandoned else (attempt.answered_at or now)
    codes = [] if abandoned else [c for c in (attempt.error_codes or "").replace(",", ";").split(";") if c.strip()]
    return {"attempt_id": attempt.id, "kind": attempt.kind, "at": at.isoformat(), "abandoned": abandoned,
            "until": attempt.deadline.isoformat() if abandoned else None,
            "codes": [c.strip() for c in codes], "environment": attempt.environment,
            "cod_sence": attempt.cod_sence, "codigo_curso": attempt.codigo_curso, "linea": attempt.linea}


def _open_group(key: str, now: datetime) -> OutboxMessage | None:
    """The participant's alert still collecting failures; a row being sent right now is skipped, not awaited."""
    return db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.group_key == key, OutboxMessage.status == "pending",
               OutboxMessage.attempts == 0, OutboxMessage.group_until > now)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()


def report_failure(attempt: Attempt, *, abandoned: bool = False, now: datetime | None = None) -> OutboxMessage | None:
    """Add a failed (or abandoned) attempt to its participant's alert for the course's alert addresses.

    Returns the alert, or None when the attempt was already reported or the course has no alert address.
    """
    now = now or utcnow()
    if not _claim_attempt(attempt.id, now):
        return None
    if db.session.get(Block, attempt.user_id) is not None:  # blocked (Ley 21.719): no processing, no mail
        return None
    settings = attempt.course.sence
    recipients = settings.alert_email_list if settings is not None else []
    if not recipients:
        return None
    key = f"alert:{attempt.course_id}:{attempt.user_id}"
    message = _open_group(key, now)
    if message is None:
        message = enqueue("alert", recipients, "", "", now=now, group_key=key, group_until=now + ALERT_WINDOW,
                          course_id=attempt.course_id, user_id=attempt.user_id, context={"failures": []})
    failures = [*message.context.get("failures", []), _failure_entry(attempt, abandoned, now)]
    message.context = {"failures": failures}
    message.to_addrs = ", ".join(recipients)
    message.subject, message.body = _alert_text(attempt, failures)
    db.session.flush()
    db.session.execute(update(AttemptNotice).where(AttemptNotice.attempt_id == attempt.id)
                       .values(outbox_id=message.id))
    return message


def _alert_text(attempt: Attempt, failures: list[dict]) -> tuple[str, str]:
    user, course = attempt.user, attempt.course
    latest = failures[-1]
    lines = [_failure_line(entry) for entry in failures]
    count = len(failures)
    unanswered = all(entry["abandoned"] for entry in failures)  # nothing failed yet: SENCE has not answered
    subject = (f"{'Sin respuesta de SENCE' if unanswered else 'Falla SENCE'}: {user.full_name} en «{course.title}»"
               + (f" ({count} intentos)" if count > 1 else ""))
    body = _render("notify/mail/alert.txt", user=user, course=course, failures=lines, count=count,
                   unanswered=unanswered,
                   cod_sence=latest["cod_sence"], codigo_curso=latest["codigo_curso"], linea=latest["linea"],
                   linea_label=LINEAS.get(latest["linea"], ""),
                   environment=ENVIRONMENT_LABELS.get(latest["environment"], latest["environment"]),
                   window_minutes=int(ALERT_WINDOW.total_seconds() // 60))
    return _one_line(subject), body


def _failure_line(entry: dict) -> dict:
    at = datetime.fromisoformat(entry["at"])
    kind = KIND_LABELS.get(entry["kind"], entry["kind"])
    if entry["abandoned"]:
        minutes = int(ABANDON_AFTER.total_seconds() // 60)
        until = entry.get("until")
        by = f" hasta las {format_chile(datetime.fromisoformat(until), '%H:%M del %d-%m-%Y')}" if until else ""
        errors = [("sin respuesta", f"Sin respuesta de SENCE después de {minutes} minutos; aún puede llegar{by}. "
                                    "Si no llega, el participante abandonó la página de SENCE o ClaveÚnica, "
                                    "o se perdió la respuesta.")]
    else:
        errors = []
        for code in entry["codes"] or ["(vacío)"]:
            meaning = describe(code)
            errors.append((code, f"{meaning.title}. {meaning.admin_message}"))
    return {"at": format_chile(at, "%d-%m-%Y %H:%M:%S"), "kind": kind, "errors": errors}


def on_attempt_failed(attempt: Attempt, **_extra) -> None:
    """Signal receiver, inside the callback's transaction: a savepoint keeps a mail problem from undoing it."""
    try:
        with db.session.begin_nested():
            report_failure(attempt)
    except Exception:
        log.exception("could not queue the failure alert for attempt %s", getattr(attempt, "id", "?"))


signals.attempt_failed.connect(on_attempt_failed)


def answered_after_alert(attempt: Attempt, now: datetime | None = None) -> OutboxMessage | None:
    """SENCE's success arrived after the attempt was reported as unanswered: take it back.

    An alert still collecting (unsent, not being sent) loses the entry, and goes away when nothing is left;
    one already sent gets a short follow-up, so the OTEC's inbox and the Correos page tell the whole story.
    Returns the follow-up, if one was queued.
    """
    notice = db.session.get(AttemptNotice, attempt.id)
    if notice is None or notice.outbox_id is None:
        return None
    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.id == notice.outbox_id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if message is not None and message.status == "pending" and message.attempts == 0:
        rest = [f for f in message.context.get("failures", []) if f["attempt_id"] != attempt.id]
        if rest:
            message.context = {"failures": rest}
            message.subject, message.body = _alert_text(attempt, rest)
        else:
            db.session.delete(message)
        return None
    recipients = (message.recipients if message is not None else None) or (
        attempt.course.sence.alert_email_list if attempt.course.sence is not None else [])
    if not recipients:
        return None
    user, course = attempt.user, attempt.course
    body = _render("notify/mail/alert_answered.txt", user=user, course=course,
                   kind=KIND_LABELS.get(attempt.kind, attempt.kind),
                   sent=format_chile(attempt.created_at, "%d-%m-%Y %H:%M:%S"),
                   answered=format_chile(attempt.answered_at or now or utcnow(), "%d-%m-%Y %H:%M:%S"))
    subject = _one_line(f"Llegó la respuesta de SENCE: {user.full_name} en «{course.title}»")
    return enqueue("alert", recipients, subject, body, now=now, course_id=attempt.course_id, user_id=attempt.user_id,
                   context={"answered_attempt_id": attempt.id})


def on_attempt_succeeded(attempt: Attempt, **_extra) -> None:
    """Signal receiver, inside the callback's transaction: a savepoint keeps a mail problem from undoing it.
    Nearly every success was never reported: one primary-key lookup and nothing else for those."""
    if db.session.get(AttemptNotice, attempt.id) is None:
        return
    try:
        with db.session.begin_nested():
            answered_after_alert(attempt)
    except Exception:
        log.exception("could not take back the no-answer alert of attempt %s", getattr(attempt, "id", "?"))


signals.attempt_succeeded.connect(on_attempt_succeeded)


def queue_abandoned_alerts(now: datetime) -> int:
    """Report attempts left pending past ABANDON_AFTER (SENCE sends nothing when ClaveÚnica is abandoned)."""
    reported = exists().where(AttemptNotice.attempt_id == Attempt.id)
    candidates = db.session.execute(
        select(Attempt)
        .where(Attempt.status == "pending", Attempt.created_at <= now - ABANDON_AFTER,
               Attempt.created_at > now - ABANDONED_LOOKBACK, ~reported)
        .order_by(Attempt.created_at)
    ).scalars().all()
    count = 0
    for attempt in candidates:
        if report_failure(attempt, abandoned=True, now=now) is not None:
            count += 1
    db.session.commit()
    return count


# --- Close reminders ------------------------------------------------------------------------------------


def course_link(course_id: int) -> str:
    """Absolute link to the course page, built from PUBLIC_BASE_URL (the sweep has no request)."""
    path = current_app.url_map.bind("localhost").build("courses.course", {"course_id": course_id})
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def queue_reminders(now: datetime) -> int:
    """One "cierra tu sesión SENCE" e-mail per open session entering its last REMINDER_BEFORE."""
    due = db.session.execute(
        select(SenceSession)
        .join(User, User.id == SenceSession.user_id)
        .where(SenceSession.status.in_(("open", "close_failed")), SenceSession.reminder_sent_at.is_(None),
               SenceSession.expires_at > now, SenceSession.expires_at <= now + REMINDER_BEFORE,
               User.email.is_not(None), User.email != "", ~_blocked(SenceSession.user_id))
        .order_by(SenceSession.expires_at)
        .with_for_update(skip_locked=True, of=SenceSession)
    ).scalars().all()
    for sence_session in due:
        sence_session.reminder_sent_at = now
        _queue_reminder(sence_session, now)
    db.session.commit()
    return len(due)


def _queue_reminder(sence_session: SenceSession, now: datetime) -> OutboxMessage:
    user, course = sence_session.user, sence_session.course
    body = _render("notify/mail/reminder.txt", user=user, course=course, sence_session=sence_session,
                   minutes_left=max(0, int((sence_session.expires_at - now).total_seconds() // 60)),
                   link=course_link(course.id))
    subject = f"Cierra tu sesión SENCE en «{course.title}»"
    return enqueue("reminder", [user.email], subject, body, now=now, course_id=course.id, user_id=user.id,
                   context={"session_id": sence_session.id})


# --- Sending --------------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed try, at most an hour: a long SMTP outage loses nothing."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _blocked(user_id_column):
    """The person asked for blocking (app/privacy): nothing is sent to or about them while it lasts."""
    return exists().where(Block.user_id == user_id_column)


def _claim_next(now: datetime) -> OutboxMessage | None:
    return db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
               ~_blocked(OutboxMessage.user_id))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()


def send_due(now: datetime | None = None, limit: int = SEND_BATCH, result: SweepResult | None = None) -> SweepResult:
    """Send due messages one per transaction, each row locked while its SMTP conversation lasts.

    Stops at the first transient failure (the server is likely down): the rest wait for the next sweep.
    """
    now = now or utcnow()
    deadline = time.monotonic() + SEND_SECONDS
    result = result or SweepResult()
    with Mailer(current_app.config) as mailer:
        if not mailer.configured:
            return result
        for _ in range(limit):
            message = _claim_next(now) if time.monotonic() < deadline else None
            if message is None:
                break
            if not _send_one(mailer, message, now, result):
                break
    return result


def _send_one(mailer: Mailer, message: OutboxMessage, now: datetime, result: SweepResult) -> bool:
    message.attempts += 1
    message.last_attempt_at = now
    keep_going = True
    try:
        refused = mailer.send(message)
    except PermanentFailure as err:
        message.status, message.last_error = "failed", f"Rechazado por el servidor: {err}"
        result.failed += 1
    except TransientFailure as err:
        message.last_error = f"No se pudo enviar: {err}"
        message.next_attempt_at = now + backoff(message.attempts)
        result.failed += 1
        keep_going = False
    else:
        message.status, message.sent_at = "sent", now
        message.last_error = _refused_text(refused)
        result.sent += 1
    db.session.commit()
    return keep_going


def _refused_text(refused: dict) -> str:
    if not refused:
        return ""
    return "Algunos destinatarios rechazados: " + "; ".join(f"{a}: {c}" for a, (c, _m) in refused.items())


def sweep(now: datetime | None = None, producers: tuple[Producer, ...] = ()) -> SweepResult:
    """The time-driven mail work, once: reminders, no-answer alerts, the producers' mail, then every due message."""
    now = now or utcnow()
    result = SweepResult()
    sence_service.expire_stale(now=now)  # sessions past their limit without a close: terminal "expired"
    db.session.commit()
    result.reminders = queue_reminders(now)
    result.alerts = queue_abandoned_alerts(now)
    for producer in producers:
        result.queued[producer.label] = result.queued.get(producer.label, 0) + producer.queue(now)
    send_due(now, result=result)
    result.waiting = db.session.execute(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    ).scalar_one()
    return result


# --- The Correos page -----------------------------------------------------------------------------------

PAGE_SIZE = 50


def list_messages(status: str | None, page: int) -> tuple[list[OutboxMessage], bool]:
    """One page of the outbox, newest first; the flag says whether an older page exists."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    rows = db.session.execute(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).scalars().all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status: count for status, count in rows}


def retry_now(message: OutboxMessage, now: datetime | None = None) -> None:
    """The admin asks for another try (a failed address fixed, or no wish to wait for the back-off)."""
    if message.status == "sent":
        return
    message.status = "pending"
    message.next_attempt_at = now or utcnow()
    message.group_until = None
    db.session.commit()

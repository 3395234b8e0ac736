"""Retention: each data class is kept for a period the OTEC sets (defaults below); `flask sweep` deletes what has
passed it and records what it did.

Once per RUN_EVERY per class, and once only with several servers: the class's policy row is claimed with
SELECT ... FOR UPDATE SKIP LOCKED (as the outbox rows are in app/notify), so a second sweep running at the same
moment skips the class instead of waiting, and after the first commits it finds `last_run_at` recent.
On SQLite (one writer) the lock clause is a no-op.

One function per data class. SIC records (clicks, accepted progress, sends) are SENCE evidence: they age with
`sence_evidence`. A suppressed person's closed account goes once none of their evidence (SENCE attempts,
evaluation attempts, certificates) is left, whichever class removed the last of it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.auth.models import User
from app.certificates.models import Certificate
from app.evaluations.models import Answer, EvaluationAttempt, StatusOverride
from app.extensions import db
from app.notify.models import OutboxMessage
from app.privacy.models import AccessEvent, Pseudonym, RetentionPolicy, RetentionRun
from app.sence.models import Attempt, Exchange
from app.sic.models import SicAccepted, SicAction, SicSend
from app.timeutil import utcnow

RUN_EVERY = timedelta(hours=24)


@dataclass(frozen=True)
class DataClass:
    label: str
    default_days: int
    why: str


DATA_CLASSES = {
    "sence_evidence": DataClass(
        "Evidencia SENCE (intentos, sesiones, intercambios; actividad, avance y envíos SIC)", 5 * 365,
        "La OTEC debe poder acreditar la asistencia ante SENCE y en auditorías (5 años por defecto). Al vencer se "
        "borra, y con ella la cuenta cerrada de quien pidió la supresión."),
    "grades_certificates": DataClass(
        "Notas y certificados (intentos de evaluación, decisiones de estado, certificados)", 5 * 365,
        "Mismo plazo que la evidencia SENCE: las notas de cursos SENCE son parte de lo que se acredita."),
    "outbox": DataClass(
        "Correos enviados o fallidos", 180,
        "Sirven para resolver reclamos de avisos no recibidos; después no hacen falta."),
    "logs": DataClass(
        "Registros: accesos del personal y respuestas SENCE rechazadas", 2 * 365,
        "Registro de responsabilidad proactiva; dos años cubren una fiscalización habitual."),
}

# What the settings page calls each count of a run.
COUNT_LABELS = {"sence_exchanges": "intercambios SENCE", "sence_attempts": "intentos SENCE (con sus sesiones)",
                "suppressed_accounts": "cuentas suprimidas", "outbox": "correos",
                "access_trail": "accesos del personal", "sence_exchanges_unmatched": "respuestas SENCE rechazadas",
                "sic_actions": "actividad SIC", "sic_accepted": "avances SIC aceptados", "sic_sends": "envíos SIC",
                "evaluation_attempts": "intentos de evaluación (con sus respuestas)",
                "status_overrides": "decisiones de estado", "certificates": "certificados"}


# --- One function per data class: delete what is older than `cutoff`, return counts per table ------------


def _drop_finished_accounts() -> int:
    """Suppressed people with no evidence left: their closed account row goes too."""
    left = (exists().where(Attempt.user_id == Pseudonym.user_id)
            | exists().where(EvaluationAttempt.user_id == Pseudonym.user_id)
            | exists().where(Certificate.user_id == Pseudonym.user_id))
    done = list(db.session.execute(select(Pseudonym.user_id).where(~left)).scalars())
    return db.session.execute(delete(User).where(User.id.in_(done))).rowcount if done else 0


def sence_evidence(cutoff: datetime) -> dict:
    old = select(Attempt.id).where(Attempt.created_at < cutoff)
    exchanges = db.session.execute(delete(Exchange).where(Exchange.attempt_id.in_(old))).rowcount
    attempts = db.session.execute(delete(Attempt).where(Attempt.created_at < cutoff)).rowcount  # sessions cascade
    counts = {"sence_exchanges": exchanges, "sence_attempts": attempts,
              "sic_actions": db.session.execute(delete(SicAction).where(SicAction.at < cutoff)).rowcount,
              "sic_accepted": db.session.execute(delete(SicAccepted).where(SicAccepted.accepted_at < cutoff)).rowcount,
              "sic_sends": db.session.execute(delete(SicSend).where(SicSend.started_at < cutoff)).rowcount}
    return {**counts, "suppressed_accounts": _drop_finished_accounts()}


def grades_certificates(cutoff: datetime) -> dict:
    """Evaluation attempts by their start, status decisions by their date, certificates by their issue date."""
    old = select(EvaluationAttempt.id).where(EvaluationAttempt.started_at < cutoff)
    db.session.execute(delete(Answer).where(Answer.attempt_id.in_(old)))
    attempts = db.session.execute(delete(EvaluationAttempt).where(EvaluationAttempt.started_at < cutoff)).rowcount
    overrides = db.session.execute(delete(StatusOverride).where(StatusOverride.created_at < cutoff)).rowcount
    certificates = db.session.execute(delete(Certificate).where(Certificate.issued_at < cutoff)).rowcount
    return {"evaluation_attempts": attempts, "status_overrides": overrides, "certificates": certificates,
            "suppressed_accounts": _drop_finished_accounts()}


def outbox(cutoff: datetime) -> dict:
    finished = OutboxMessage.status.in_(("sent", "failed"))
    return {"outbox": db.session.execute(delete(OutboxMessage).where(finished, OutboxMessage.created_at < cutoff))
            .rowcount}


def logs(cutoff: datetime) -> dict:
    """The trail's only way out: age (the ORM refuses edits and deletes of its rows)."""
    trail = db.session.execute(delete(AccessEvent).where(AccessEvent.at < cutoff)).rowcount
    refused = db.session.execute(delete(Exchange).where(Exchange.attempt_id.is_(None), Exchange.at < cutoff)).rowcount
    return {"access_trail": trail, "sence_exchanges_unmatched": refused}


APPLY = {"sence_evidence": sence_evidence, "grades_certificates": grades_certificates, "outbox": outbox,
         "logs": logs}


# --- Policies and the run -------------------------------------------------------------------------------


def ensure_policies() -> None:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for name, data_class in DATA_CLASSES.items():
        db.session.execute(insert(RetentionPolicy).values(data_class=name, days=data_class.default_days)
                           .on_conflict_do_nothing(index_elements=["data_class"]))
    db.session.commit()


def policies() -> list[RetentionPolicy]:
    ensure_policies()
    rows = {p.data_class: p for p in db.session.execute(select(RetentionPolicy)).scalars()}
    return [rows[name] for name in DATA_CLASSES]


def set_days(values: dict[str, int]) -> None:
    for policy in policies():
        days = values.get(policy.data_class)
        if days is None:
            continue
        if not 30 <= days <= 20 * 365:
            raise ValueError(f"«{DATA_CLASSES[policy.data_class].label}»: el plazo debe estar entre 30 y 7300 días.")
        policy.days = days
    db.session.commit()


def _claim(name: str, now: datetime) -> RetentionPolicy | None:
    return db.session.execute(
        select(RetentionPolicy)
        .where(RetentionPolicy.data_class == name,
               or_(RetentionPolicy.last_run_at.is_(None), RetentionPolicy.last_run_at <= now - RUN_EVERY))
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()


def run_retention(now: datetime | None = None) -> list[RetentionRun]:
    """Apply every due class, one transaction each; returns the runs recorded by this call."""
    now = now or utcnow()
    ensure_policies()
    runs = []
    for name, apply in APPLY.items():
        policy = _claim(name, now)
        if policy is None:
            db.session.rollback()
            continue
        cutoff = now - timedelta(days=policy.days)
        run = RetentionRun(data_class=name, ran_at=now, cutoff=cutoff, counts=apply(cutoff))
        policy.last_run_at = now
        db.session.add(run)
        db.session.commit()
        runs.append(run)
    return runs


def recent_runs(limit: int = 20) -> list[RetentionRun]:
    return list(db.session.execute(select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit)).scalars())


def summary(runs: list[RetentionRun]) -> str:
    if not runs:
        return "retención: nada que revisar ahora"
    deleted = sum(sum(r.counts.values()) for r in runs)
    return f"retención: {len(runs)} clases revisadas, {deleted} filas borradas"

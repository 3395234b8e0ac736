"""SENCE rows for notify and reports tests, written straight with the models (the flow itself is tested in sence/)."""

import itertools
from datetime import datetime, timedelta

from app.extensions import db
from app.sence import signals
from app.sence.models import Attempt, SenceSession
from app.timeutil import utcnow

_ids = itertools.count(1)


def make_attempt(user, course, *, kind="login", status="pending", error_codes="", created_at: datetime | None = None,
                 environment: str | None = None) -> Attempt:
    created_at = created_at or utcnow()
    settings = course.sence
    attempt = Attempt(
        kind=kind, id_sesion_alumno=f"alumno-{next(_ids)}", user_id=user.id, course_id=course.id,
        environment=environment or settings.environment, run_alumno=user.run or "", cod_sence=settings.cod_sence,
        codigo_curso=settings.codigo_curso, linea=settings.linea, status=status, error_codes=error_codes,
        created_at=created_at, answered_at=None if status == "pending" else created_at + timedelta(seconds=40),
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


def fail_attempt(user, course, codes: str, *, at: datetime | None = None, kind="login") -> Attempt:
    """What the SENCE callback does with a GlosaError: mark the attempt failed, signal, commit."""
    attempt = make_attempt(user, course, kind=kind, created_at=(at or utcnow()) - timedelta(seconds=40))
    attempt.status = "failed"
    attempt.error_codes = codes
    attempt.answered_at = at or utcnow()
    signals.attempt_failed.send(attempt)
    db.session.commit()
    return attempt


def open_session(user, course, *, started_at: datetime, limit_minutes: int = 180, status: str = "open",
                 closed_at: datetime | None = None, environment: str | None = None) -> SenceSession:
    login = make_attempt(user, course, status="succeeded", created_at=started_at - timedelta(minutes=1),
                         environment=environment)
    sence_session = SenceSession(
        user_id=user.id, course_id=course.id, login_attempt_id=login.id, id_sesion_alumno=login.id_sesion_alumno,
        id_sesion_sence=f"SENCE-{next(_ids):06d}", environment=login.environment, started_at=started_at,
        started_raw="", expires_at=started_at + timedelta(minutes=limit_minutes), status=status, closed_at=closed_at,
    )
    db.session.add(sence_session)
    db.session.commit()
    login.session_id = sence_session.id
    db.session.commit()
    return sence_session

"""Suppression (Ley 21.719 right to erasure), stated in one place.

THE RULE
- Evidence the OTEC must keep for SENCE (SENCE attempts, sessions and exchanges, the enrolments of SENCE
  courses that the attendance report counts from, the evaluation attempts and status decisions of SENCE courses,
  every certificate, and the SIC records: clicks, accepted progress, sends) is kept under a pseudonym until its
  retention ends (`retention.py` then deletes it, and the closed account with it). A certificate's name snapshot
  becomes the pseudonym label and its RUN is dropped, so its PDF (always rendered from the snapshot) and its public
  verification page no longer name the person; the verification page says the holder's data were suppressed.
  SIC sends keep their payload and rejections with the person's RUN number and name replaced by the code.
- Everything else about the person is erased: name, RUN, e-mail, phones and password; lesson progress;
  enrolments, evaluation attempts and status decisions in courses without SENCE codes; e-mails to or
  about them; a block.
- The account is closed (it cannot sign in again).
- Kept as the OTEC's proof of compliance, with ids only: the person's privacy requests and their events, their
  notice acknowledgements, and the staff access trail.

One function per data class, run in order in one transaction by `suppress`.
"""

import hashlib
import hmac
import re
import secrets

from flask import current_app
from sqlalchemy import delete, select

from app.auth.models import User
from app.certificates.models import Certificate
from app.courses.models import Enrollment, LessonProgress
from app.evaluations.models import Answer, Evaluation, EvaluationAttempt, StatusOverride
from app.extensions import db
from app.notify.models import OutboxMessage
from app.privacy.export import exchanges_query, outbox_query, own_sic_entries, run_number, sic_sends_query
from app.privacy.models import Block, PrivacyRequest, Pseudonym
from app.privacy.service import RuleError, add_event
from app.sence.models import Attempt, CourseSence, SenceSession
from app.sic.models import CourseSic
from app.timeutil import utcnow

PSEUDONYM_LABEL = "Participante seudonimizado {code}"


def run_digest(run: str | None) -> str:
    """HMAC of the RUN: the same RUN gives the same digest, but the digest does not give back the RUN."""
    if not run:
        return ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, run.encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    while True:
        code = "P-" + secrets.token_hex(4).upper()
        if db.session.execute(select(Pseudonym.code).where(Pseudonym.code == code)).first() is None:
            return code


def _sence_course_ids(user: User):
    """Courses whose records are SENCE evidence for this person: with SENCE codes, reported to SIC, or with their
    attempts."""
    coded = select(CourseSence.course_id).where(CourseSence.cod_sence != "")
    reported = select(CourseSic.course_id).where(CourseSic.enabled.is_(True))
    attempted = select(Attempt.course_id).where(Attempt.user_id == user.id)
    return coded.union(reported, attempted)


def _count(query) -> int:
    return len(db.session.execute(query).all())


# --- One function per data class ------------------------------------------------------------------------


def sence_evidence(user: User, code: str) -> dict:
    """Kept, pseudonymised: the RUN sent to SENCE becomes the pseudonym, in attempts and in the raw fields."""
    counts = {"exchanges": 0}
    for exchange in db.session.execute(exchanges_query(user)).scalars():
        exchange.fields = {k: (code if isinstance(v, str) and user.run and v == user.run else v)
                           for k, v in (exchange.fields or {}).items()}
        counts["exchanges"] += 1
    for attempt in db.session.execute(select(Attempt).where(Attempt.user_id == user.id)).scalars():
        attempt.run_alumno = code
        if attempt.answer_fields:
            attempt.answer_fields = {k: (code if v == user.run else v) for k, v in attempt.answer_fields.items()}
    counts["attempts"] = _count(select(Attempt.id).where(Attempt.user_id == user.id))
    counts["sessions"] = _count(select(SenceSession.id).where(SenceSession.user_id == user.id))
    return counts


def enrolments(user: User, code: str) -> dict:
    """Kept in SENCE courses (the attendance report counts from them), erased elsewhere."""
    result = db.session.execute(delete(Enrollment).where(Enrollment.user_id == user.id,
                                                         Enrollment.course_id.not_in(_sence_course_ids(user))))
    return {"enrolments_erased": result.rowcount}


def lesson_progress(user: User, code: str) -> dict:
    result = db.session.execute(delete(LessonProgress).where(LessonProgress.user_id == user.id))
    return {"lesson_progress_erased": result.rowcount}


def emails(user: User, code: str) -> dict:
    """E-mails to the person and alerts about them (both carry their name or address): erased."""
    ids = [m.id for m in db.session.execute(outbox_query(user)).scalars()]
    result = db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return {"emails_erased": result.rowcount}


def grades(user: User, code: str) -> dict:
    """Kept in SENCE courses (the attempts hold ids; a kept decision's reason loses the person's name), erased
    elsewhere with their answers."""
    courses = _sence_course_ids(user)
    elsewhere = select(EvaluationAttempt.id).join(Evaluation, Evaluation.id == EvaluationAttempt.evaluation_id) \
        .where(EvaluationAttempt.user_id == user.id, Evaluation.course_id.not_in(courses))
    ids = list(db.session.execute(elsewhere).scalars())
    db.session.execute(delete(Answer).where(Answer.attempt_id.in_(ids)))
    attempts = db.session.execute(delete(EvaluationAttempt).where(EvaluationAttempt.id.in_(ids))).rowcount
    decisions = db.session.execute(delete(StatusOverride).where(StatusOverride.user_id == user.id,
                                                                StatusOverride.course_id.not_in(courses))).rowcount
    label = PSEUDONYM_LABEL.format(code=code)
    for kept in db.session.execute(select(StatusOverride).where(StatusOverride.user_id == user.id)).scalars():
        kept.reason = kept.reason.replace(user.full_name, label)  # staff's words may name the person
    return {"evaluation_attempts_erased": attempts, "status_decisions_erased": decisions}


def certificates(user: User, code: str) -> dict:
    """Kept (the OTEC issued them): the printed name becomes the pseudonym label and the RUN is dropped (the PDF
    then prints no RUN line)."""
    rows = list(db.session.execute(select(Certificate).where(Certificate.user_id == user.id)).scalars())
    for cert in rows:
        cert.participant_name = PSEUDONYM_LABEL.format(code=code)
        cert.participant_run = ""
    return {"certificates": len(rows)}


def sic_sends(user: User, code: str) -> dict:
    """Kept as sent, but the person's RUN number, check digit and name in payloads and rejections become the code."""
    number = run_number(user.run)
    if not number:
        return {"sic_sends": 0}
    run_pattern = re.compile(rf"\b{number}(-[0-9kK])?\b")  # as SENCE writes it in its messages

    def scrub(text: str) -> str:
        return run_pattern.sub(code, text)

    changed = 0
    for send in db.session.execute(sic_sends_query(user)).scalars():
        students, rejections = own_sic_entries(send, number)
        if not (students or rejections):
            continue
        body = dict(send.request_body or {})
        body["listaAlumnos"] = [{**s, "rutAlumno": code, "dvAlumno": ""} if s in students else s
                                for s in body.get("listaAlumnos", [])]
        send.request_body = body
        send.rejections = [{**r, "rut": code, "run": code, "name": PSEUDONYM_LABEL.format(code=code),
                            "message": scrub(r.get("message") or "")} if r in rejections else r
                           for r in send.rejections or []]
        send.response_text = scrub(send.response_text or "")
        changed += 1
    return {"sic_sends": changed}


def block(user: User, code: str) -> dict:
    result = db.session.execute(delete(Block).where(Block.user_id == user.id))
    return {"block_removed": result.rowcount}


def profile(user: User, code: str) -> dict:
    """Last, since the steps above find the person's rows by their RUN and e-mail."""
    db.session.add(Pseudonym(user_id=user.id, code=code, run_digest=run_digest(user.run), suppressed_at=utcnow()))
    user.full_name = PSEUDONYM_LABEL.format(code=code)
    user.email = user.run = user.phone = user.mobile = user.password_hash = None
    user.active = False
    return {"profile": 1}


STEPS = (sence_evidence, sic_sends, grades, certificates, enrolments, lesson_progress, emails, block, profile)


def suppress(request: PrivacyRequest, actor: User) -> dict:
    """Carry out a suppression request, in one transaction; the request's events say what was done."""
    user = request.user
    if request.kind != "suppression":
        raise RuleError("Solo una solicitud de supresión puede suprimir datos.")
    if user is None or db.session.get(Pseudonym, user.id) is not None:
        raise RuleError("Los datos de esta persona ya fueron suprimidos.")
    if user.id == actor.id or not user.is_participant:
        raise RuleError("Solo se suprimen aquí los datos de participantes; las cuentas del personal se cierran "
                        "desde Usuarios.")
    code = _new_code()
    counts = {}
    for step in STEPS:
        counts.update(step(user, code))
    add_event(request, actor, "suppressed",
              f"Datos suprimidos; evidencia SENCE conservada bajo el seudónimo {code}. " + _describe(counts))
    db.session.commit()
    return counts


def _describe(counts: dict) -> str:
    labels = {"exchanges": "intercambios SENCE seudonimizados", "attempts": "intentos SENCE seudonimizados",
              "sessions": "sesiones SENCE conservadas", "enrolments_erased": "inscripciones borradas",
              "lesson_progress_erased": "avances borrados", "emails_erased": "correos borrados",
              "evaluation_attempts_erased": "intentos de evaluación borrados",
              "status_decisions_erased": "decisiones de estado borradas",
              "certificates": "certificados seudonimizados", "sic_sends": "envíos SIC seudonimizados"}
    return "; ".join(f"{labels[k]}: {v}" for k, v in counts.items() if k in labels) + "."

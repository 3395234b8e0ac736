"""Certificate rules: who gets one, folios, revocation and reissue, the signer settings, PDFs and ZIPs.

Only an approved participant (the course status service of app/evaluations) of a course with an OTEC gets a
certificate, and at most one valid certificate exists per participant and course (a partial unique index
backs this when two staff issue at once). Each function that changes something commits, or changes nothing.
"""

import io
import logging
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.certificates import folio as folios
from app.certificates import pdf
from app.certificates.models import Certificate, CertificateSigner
from app.courses.models import Course, Enrollment
from app.evaluations.status import ParticipantStatus, course_statuses, participant_status
from app.extensions import db, sql_constant
from app.sence.models import Otec
from app.timeutil import utcnow

log = logging.getLogger(__name__)

FOLIO_TRIES = 5
REASON_MIN = 5
SIGNATURE_MAX_BYTES = 2 * 1024 * 1024
SIGNATURE_MAX_SIDE = 1200


class RuleError(ValueError):
    """Refused; `str()` is a Spanish message and nothing was stored."""


# --- Issuing -----------------------------------------------------------------------------------------------


def _otec_of(course: Course) -> Otec:
    otec = course.sence.otec if course.sence is not None else None
    if otec is None:
        raise RuleError("El curso no tiene un OTEC asignado (pestaña SENCE): el certificado lleva su nombre y RUT.")
    return otec


def _valid_of(course_id, user_id) -> tuple:
    """The valid certificate of a participant in a course (at most one: ux_certificates_one_valid).

    The status is written into the SQL, not bound: SQLite prepares a statement again on every run when a bound
    value is compared with the column of a partial index's WHERE (here, status), and the course page's
    account-and-course statement, which carries this as a subquery, cost 183 µs instead of 22 (bench/README.md)."""
    valid = Certificate.status == sql_constant("valid")
    return Certificate.course_id == course_id, Certificate.user_id == user_id, valid


_VALID = select(Certificate).where(*_valid_of(bindparam("course_id"), bindparam("user_id")))
_VALID_FOLIO = select(Certificate.folio).where(*_valid_of(bindparam("course_id"), bindparam("user_id")))


def valid_certificate(course_id: int, user_id: int) -> Certificate | None:
    return db.session.execute(_VALID, {"course_id": course_id, "user_id": user_id}).scalar_one_or_none()


def valid_folio(course_id: int, user_id: int) -> str | None:
    """The folio of the participant's valid certificate: what the course page shows, on every view."""
    return db.session.connection().execute(_VALID_FOLIO, {"course_id": course_id, "user_id": user_id}).scalar()


def enrollment_folio():
    """valid_folio as a subquery correlated to the enrollment, for the participant's course-and-enrollment
    statement (app.courses.access.ENROLLMENT_EXTRAS): the course page then sends no statement for it."""
    return (select(Certificate.folio).where(*_valid_of(Enrollment.course_id, Enrollment.user_id))
            .correlate(Enrollment).scalar_subquery())


def _snapshot(course: Course, user: User, otec: Otec, final_grade, by: User | None) -> Certificate:
    signer = db.session.get(CertificateSigner, otec.id)
    return Certificate(
        course_id=course.id, user_id=user.id, status="valid", issued_at=utcnow(),
        issued_by_id=by.id if by is not None else None, participant_name=user.full_name,
        participant_run=user.run or "", course_title=course.title, hours=course.hours or 0,
        start_date=course.start_date, end_date=course.end_date, final_grade=final_grade, otec_name=otec.name,
        otec_rut=otec.rut, signer_name=signer.signer_name if signer else "",
        signer_title=signer.signer_title if signer else "", signature_file=signer.signature_file if signer else "",
    )


def _insert(cert: Certificate) -> Certificate:
    """Add with a fresh folio; a folio collision (2^-80) or a concurrent issue surfaces as IntegrityError."""
    for _ in range(FOLIO_TRIES):
        cert.folio = folios.new_folio()
        try:
            with db.session.begin_nested():
                db.session.add(cert)
            return cert
        except IntegrityError:
            if valid_certificate(cert.course_id, cert.user_id) is not None:
                raise RuleError("El participante ya tiene un certificado válido en este curso.") from None
    raise RuleError("No se pudo generar un folio único; inténtalo de nuevo.")


def _check_approved(course: Course, user: User) -> ParticipantStatus:
    enrolled = db.session.execute(
        select(Enrollment.id).where(Enrollment.course_id == course.id, Enrollment.user_id == user.id)
    ).first()
    if enrolled is None:
        raise RuleError(f"{user.full_name} no está inscrito en este curso.")
    status = participant_status(course.id, user.id)
    if status.status != "aprobado":
        raise RuleError(f"{user.full_name} no ha aprobado el curso: no corresponde certificado.")
    return status


def issue(course: Course, user: User, by: User | None, *, replaces: Certificate | None = None) -> Certificate:
    """One certificate for an approved participant; refused if they already hold a valid one."""
    otec = _otec_of(course)
    status = _check_approved(course, user)
    if valid_certificate(course.id, user.id) is not None:
        raise RuleError(f"{user.full_name} ya tiene un certificado válido en este curso.")
    cert = _snapshot(course, user, otec, status.final_grade, by)
    cert.replaces_id = replaces.id if replaces is not None else None
    _insert(cert)
    db.session.commit()
    log.info("certificate %s issued to user %s in course %s", cert.folio, user.id, course.id)
    return cert


@dataclass
class BulkResult:
    issued: list[Certificate] = field(default_factory=list)
    already: int = 0


def issue_all(course: Course, by: User | None, *, commit: bool = True, now: datetime | None = None) -> BulkResult:
    """Every approved participant without a valid certificate gets one (the others are left as they are).

    The sweep passes commit=False: the certificates then commit with its close-out stamp.
    """
    otec = _otec_of(course)
    result = BulkResult()
    statuses = course_statuses(course.id, now=now)
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(list(statuses)))).scalars()}
    for user_id, status in sorted(statuses.items()):
        if status.status != "aprobado" or user_id not in users:
            continue
        if valid_certificate(course.id, user_id) is not None:
            result.already += 1
            continue
        try:
            result.issued.append(_insert(_snapshot(course, users[user_id], otec, status.final_grade, by)))
        except RuleError:
            result.already += 1  # issued meanwhile by someone else
    if commit:
        db.session.commit()
    return result


def revoke(cert: Certificate, reason: str, by: User | None, *, commit: bool = True) -> Certificate:
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise RuleError("Indica el motivo de la revocación (al menos 5 caracteres): queda registrado.")
    if not cert.is_valid:
        raise RuleError(f"El certificado {cert.folio} ya estaba revocado.")
    cert.status, cert.revoked_at, cert.revoked_reason = "revoked", utcnow(), reason[:1000]
    cert.revoked_by_id = by.id if by is not None else None
    db.session.flush()
    log.info("certificate %s revoked by user %s: %s", cert.folio, cert.revoked_by_id, reason)
    if commit:
        db.session.commit()
    return cert


def reissue(cert: Certificate, reason: str, by: User | None) -> Certificate:
    """A new folio with today's data (a corrected name, a new signer); the old one is revoked in the same step."""
    try:
        if cert.is_valid:
            revoke(cert, reason, by, commit=False)
        return issue(cert.course, cert.user, by, replaces=cert)
    except RuleError:
        db.session.rollback()
        raise


# --- Reading -----------------------------------------------------------------------------------------------


def find(folio_text: str | None) -> Certificate | None:
    """The certificate with that folio, or None for anything else (malformed input is never looked up)."""
    folio = folios.normalize(folio_text)
    if folio is None:
        return None
    return db.session.execute(select(Certificate).where(Certificate.folio == folio)).scalar_one_or_none()


def of_course(course_id: int) -> list[Certificate]:
    return list(db.session.execute(
        select(Certificate).where(Certificate.course_id == course_id)
        .order_by(Certificate.participant_name, Certificate.issued_at)
    ).scalars())


def verify_url(folio: str) -> str:
    """Absolute, from PUBLIC_BASE_URL: the QR must point to the public site whoever renders the PDF."""
    path = current_app.url_map.bind("localhost").build("certificates.verify", {"folio": folio})
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def signatures_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "signatures"


def pdf_of(cert: Certificate) -> bytes:
    return pdf.render(cert, verify_url(cert.folio), signatures_dir())


def pdf_name(cert: Certificate) -> str:
    return f"certificado-{cert.folio}.pdf"


def zip_of(certs: list[Certificate]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for cert in certs:
            archive.writestr(pdf_name(cert), pdf_of(cert))
    return buffer.getvalue()


# --- The OTEC's signer ---------------------------------------------------------------------------------------


def signer_of(otec: Otec) -> CertificateSigner:
    return db.session.get(CertificateSigner, otec.id) or CertificateSigner(otec_id=otec.id)


def _store_signature(data: bytes) -> str:
    """Re-encode the upload as PNG (nothing but pixels survives) under a generated name."""
    if len(data) > SIGNATURE_MAX_BYTES:
        raise RuleError("La imagen de la firma supera 2 MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise RuleError("La firma debe ser una imagen PNG o JPG.")
            image.load()
            image.thumbnail((SIGNATURE_MAX_SIDE, SIGNATURE_MAX_SIDE))
            clean = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise RuleError("El archivo no es una imagen PNG o JPG legible.") from None
    name = f"{secrets.token_hex(16)}.png"
    folder = signatures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    clean.save(folder / name, format="PNG")
    return name


def save_signer(otec: Otec, name: str, title: str, image: bytes | None,
                remove_image: bool = False) -> CertificateSigner:
    """Old signature files stay: certificates already issued keep pointing at the one they were signed with."""
    signer = signer_of(otec)
    stored = _store_signature(image) if image else None
    signer.signer_name, signer.signer_title = " ".join(name.split()), " ".join(title.split())
    if stored:
        signer.signature_file = stored
    elif remove_image:
        signer.signature_file = ""
    db.session.add(signer)
    db.session.commit()
    return signer

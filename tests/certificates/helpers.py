"""Certificate rows for tests that are not about issuing (PDF, verification, revocation).

Issuing itself (who is approved) goes through app/certificates/service.issue in test_issuing.py.
"""

from decimal import Decimal

from app.certificates import folio
from app.certificates.models import Certificate
from app.extensions import db
from app.timeutil import utcnow


def certificate_row(course, user, otec, *, final_grade: str | None = "6.2", **fields) -> Certificate:
    values = {
        "folio": folio.new_folio(), "course_id": course.id, "user_id": user.id, "status": "valid",
        "issued_at": utcnow(), "participant_name": user.full_name, "participant_run": user.run or "",
        "course_title": course.title, "hours": course.hours, "start_date": course.start_date,
        "end_date": course.end_date, "final_grade": Decimal(final_grade) if final_grade else None,
        "otec_name": otec.name, "otec_rut": otec.rut,
        "signer_name": "Marta Rojas", "signer_title": "Directora académica",
    }
    values.update(fields)
    cert = Certificate(**values)
    db.session.add(cert)
    db.session.commit()
    return cert

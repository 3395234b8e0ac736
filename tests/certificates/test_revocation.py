"""Revocation (with its reason, logged) and what the public page says afterwards."""

import pytest
from sqlalchemy import select

from app.certificates import service
from app.certificates.models import Certificate
from app.extensions import db
from tests.certificates.helpers import certificate_row
from tests.factories import enroll, login, make_course, make_user
from tests.sence.builders import make_otec


def _world():
    otec = make_otec()
    course = make_course(title="Excel intermedio", sence={"otec_id": otec.id})
    user = make_user(full_name="Ana Pérez")
    enroll(course, user)
    return certificate_row(course, user, otec)


def test_an_admin_revokes_with_a_reason_and_the_public_page_then_says_revoked(client):
    cert = _world()
    admin = make_user("admin")
    login(client, admin)
    response = client.post(f"/certificados/{cert.id}/revocar", data={"reason": "Nombre mal escrito"})
    assert response.status_code == 303
    db.session.refresh(cert)
    assert cert.status == "revoked" and cert.revoked_reason == "Nombre mal escrito"
    assert cert.revoked_by_id == admin.id and cert.revoked_at is not None
    client.post("/salir")
    page = client.get(f"/verificar/{cert.folio}").get_data(as_text=True)
    assert "Certificado revocado" in page and "Certificado válido" not in page
    assert "Nombre mal escrito" not in page  # the reason is for the OTEC's records, not the public


def test_a_revocation_without_a_reason_is_refused_and_changes_nothing(client):
    cert = _world()
    login(client, make_user("admin"))
    response = client.post(f"/certificados/{cert.id}/revocar", data={"reason": "  "}, follow_redirects=True)
    assert "Indica el motivo" in response.get_data(as_text=True)
    db.session.refresh(cert)
    assert cert.status == "valid"


def test_a_revoked_certificate_cannot_be_revoked_again():
    cert = _world()
    service.revoke(cert, "Duplicado", None)
    with pytest.raises(service.RuleError, match="ya estaba revocado"):
        service.revoke(cert, "Otra vez", None)


def test_a_participant_downloads_only_their_own_valid_certificate(client):
    cert = _world()
    login(client, cert.user)
    response = client.get(f"/cursos/{cert.course_id}/certificado.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and cert.folio in response.headers["Content-Disposition"]
    course_page = client.get(f"/cursos/{cert.course_id}").get_data(as_text=True)
    assert "Descargar certificado (PDF)" in course_page and cert.folio in course_page
    service.revoke(cert, "Error en la nota", None)
    assert client.get(f"/cursos/{cert.course_id}/certificado.pdf").status_code == 404
    assert "Descargar certificado" not in client.get(f"/cursos/{cert.course_id}").get_data(as_text=True)


def test_two_valid_certificates_for_one_participant_cannot_exist():
    cert = _world()
    with pytest.raises(service.RuleError, match="ya tiene un certificado válido"):
        service._insert(service._snapshot(cert.course, cert.user, cert.course.sence.otec, None, None))
    db.session.rollback()
    assert len(db.session.execute(select(Certificate)).scalars().all()) == 1

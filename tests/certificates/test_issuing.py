"""Who gets a certificate: approved participants (the course status service decides), once each."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.certificates import service
from app.certificates.models import Certificate
from app.extensions import db
from tests.closeout.helpers import finished_course, graded, participant
from tests.factories import login, make_user


def test_an_approved_participant_gets_a_certificate_with_their_final_grade():
    course = finished_course()
    exam = graded(course)
    ana = participant(course, "Ana Pérez", run="12345678-5", evaluation=exam, correct=9)
    cert = service.issue(course, ana, None)
    assert cert.participant_name == "Ana Pérez" and cert.participant_run == "12345678-5"
    assert cert.course_title == "Excel intermedio" and cert.hours == Decimal("24.0")
    assert cert.otec_name == "Capacitaciones del Sur SpA" and cert.otec_rut == "76123456-0"
    assert cert.final_grade == Decimal("6.3")  # 90 % at 60 % exigencia: 4 + 3·0.3/0.4 = 6.25
    assert cert.end_date == course.end_date and service.find(cert.folio) == cert


def test_a_failed_or_still_studying_participant_gets_none():
    course = finished_course()
    benito = participant(course, "Benito Soto", sessions=0)  # no counted SENCE session: reprobado
    with pytest.raises(service.RuleError, match="no ha aprobado"):
        service.issue(course, benito, None)
    running = finished_course(ended_days_ago=-10)
    carla = participant(running, "Carla Díaz")
    with pytest.raises(service.RuleError, match="no ha aprobado"):
        service.issue(running, carla, None)
    assert db.session.execute(select(Certificate)).first() is None


def test_a_second_certificate_for_the_same_participant_is_refused():
    course = finished_course()
    ana = participant(course, "Ana Pérez")
    service.issue(course, ana, None)
    with pytest.raises(service.RuleError, match="ya tiene un certificado válido"):
        service.issue(course, ana, None)


def test_bulk_issue_gives_one_to_every_approved_participant_and_skips_the_rest():
    course = finished_course()
    approved = [participant(course, f"Aprobado {i}") for i in range(3)]
    participant(course, "Sin sesión", sessions=0)
    service.issue(course, approved[0], None)
    result = service.issue_all(course, None)
    assert len(result.issued) == 2 and result.already == 1
    holders = db.session.execute(select(Certificate.user_id).where(Certificate.status == "valid")).scalars().all()
    assert sorted(holders) == sorted(u.id for u in approved)
    assert len({c.folio for c in service.of_course(course.id)}) == 3


def test_a_course_without_otec_cannot_issue():
    course = finished_course(sence={})
    ana = participant(course, "Ana Pérez")
    with pytest.raises(service.RuleError, match="no tiene un OTEC"):
        service.issue(course, ana, None)


def test_reissue_revokes_the_old_folio_and_prints_the_corrected_name(client):
    course = finished_course()
    ana = participant(course, "Ana Peres")
    old = service.issue(course, ana, None)
    ana.full_name = "Ana Pérez"
    db.session.commit()
    login(client, make_user("admin"))
    response = client.post(f"/certificados/{old.id}/reemitir", data={"reason": "Apellido mal escrito"},
                           follow_redirects=True)
    assert "quedó revocado" in response.get_data(as_text=True)
    db.session.refresh(old)
    new = service.valid_certificate(course.id, ana.id)
    assert old.status == "revoked" and old.revoked_reason == "Apellido mal escrito"
    assert new.folio != old.folio and new.participant_name == "Ana Pérez" and new.replaces_id == old.id


def test_a_reissue_that_is_refused_leaves_the_old_certificate_valid():
    course = finished_course()
    ana = participant(course, "Ana Pérez")
    cert = service.issue(course, ana, None)
    course.sence.otec_id = None
    db.session.commit()
    with pytest.raises(service.RuleError):
        service.reissue(cert, "Cambio de firma", None)
    db.session.refresh(cert)
    assert cert.status == "valid"


def test_staff_download_all_certificates_of_a_course_as_a_zip(client):
    import io
    import zipfile

    course = finished_course()
    certs = [service.issue(course, participant(course, f"P {i}"), None) for i in range(2)]
    login(client, make_user("admin"))
    response = client.get(f"/certificados/cursos/{course.id}/certificados.zip")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert sorted(names) == sorted(f"certificado-{c.folio}.pdf" for c in certs)

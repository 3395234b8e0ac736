"""`seed-demo` leaves a finished course with a certificate anyone can verify."""

from sqlalchemy import func, select

from app.certificates.models import Certificate
from app.demo import seed_demo


def test_the_demo_has_a_finished_course_with_a_certificate_to_verify(client, db):
    seed_demo()
    seed_demo()  # idempotent
    [cert] = db.session.execute(select(Certificate)).scalars().all()
    assert cert.participant_name == "Ana Pérez" and cert.course_title == "Atención al cliente"
    assert cert.signer_name == "Marta Rojas Fuentes"
    page = client.get(f"/verificar/{cert.folio}").get_data(as_text=True)
    assert "Certificado válido" in page and "Atención al cliente" in page
    assert db.session.execute(select(func.count(Certificate.id))).scalar() == 1

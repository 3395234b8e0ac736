"""The course page offers the participant their own valid certificate, read with their enrollment."""

from app.extensions import db
from tests.certificates.helpers import certificate_row
from tests.factories import enroll, login, make_course, make_user
from tests.queries import counting, recorded_parameters
from tests.sence.builders import make_otec


def _course_with_two_participants():
    otec = make_otec()
    course = make_course(title="Excel intermedio", sence={"otec_id": otec.id})
    ana, beto = make_user(full_name="Ana Pérez"), make_user(full_name="Beto Soto")
    enroll(course, ana)
    enroll(course, beto)
    return course, otec, ana, beto


def test_the_folio_comes_with_the_enrollment_without_a_statement_of_its_own(client):
    course, otec, ana, _ = _course_with_two_participants()
    folio = certificate_row(course, ana, otec).folio
    login(client, ana)
    client.get(f"/cursos/{course.id}")
    db.session.expunge_all()
    with counting() as statements:
        page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert folio in page and "Descargar certificado (PDF)" in page
    assert not any(statement.startswith("SELECT certificates") for statement in statements), statements


def test_the_course_statement_names_the_valid_status_instead_of_binding_it(client):
    """SQLite prepares a statement again on every run when a bound value meets the column of a partial index's
    WHERE (ux_certificates_one_valid: status = 'valid'): the course page's statement cost eight times as much."""
    course, otec, ana, _ = _course_with_two_participants()
    certificate_row(course, ana, otec)
    login(client, ana)
    with recorded_parameters() as sent:
        client.get(f"/cursos/{course.id}")
    statement, parameters = next((s, p) for s, p in sent if "certificates.folio" in s)
    assert "certificates.status = 'valid'" in statement
    assert "valid" not in (parameters.values() if isinstance(parameters, dict) else parameters)


def test_another_participants_certificate_is_not_offered(client):
    course, otec, ana, beto = _course_with_two_participants()
    cert = certificate_row(course, ana, otec)
    login(client, beto)
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert cert.folio not in page and "Descargar certificado" not in page


def test_a_revoked_certificate_is_not_offered_and_its_replacement_is(client):
    course, otec, ana, _ = _course_with_two_participants()
    old = certificate_row(course, ana, otec)
    old.status = "revoked"
    db.session.commit()
    login(client, ana)
    assert old.folio not in client.get(f"/cursos/{course.id}").get_data(as_text=True)
    new = certificate_row(course, ana, otec)
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert new.folio in page and old.folio not in page


def test_staff_see_no_participants_folio_on_the_course_page(client):
    course, otec, ana, _ = _course_with_two_participants()
    cert = certificate_row(course, ana, otec)
    login(client, make_user("admin"))
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert cert.folio not in page and "Descargar certificado" not in page

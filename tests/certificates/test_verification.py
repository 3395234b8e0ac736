"""Public verification: no sign-in, valid or revoked, the RUN masked, and nothing at all for a wrong folio."""

import pytest

from app import create_app
from app.extensions import limiter
from tests.certificates.helpers import certificate_row
from tests.factories import enroll, make_course, make_user
from tests.sence.builders import make_otec


def _certificate():
    otec = make_otec(name="Capacitaciones del Sur SpA")
    course = make_course(title="Excel intermedio", hours=24, sence={"otec_id": otec.id})
    user = make_user(full_name="María José Núñez", run="12345678-5")
    enroll(course, user)
    return certificate_row(course, user, otec)


def test_anyone_without_signing_in_sees_that_a_certificate_is_valid(client):
    cert = _certificate()
    response = client.get(f"/verificar/{cert.folio}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Certificado válido" in page and "María José Núñez" in page and "Excel intermedio" in page
    assert "Capacitaciones del Sur SpA" in page and "76123456-0" in page and cert.folio in page
    assert "••.•••.678-5" in page and "12.345.678-5" not in page and "12345678" not in page


def test_the_typed_folio_form_finds_it_whatever_the_case_and_spacing(client):
    cert = _certificate()
    typed = cert.folio.lower().replace("-", " ")
    response = client.get("/verificar", query_string={"folio": typed})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/verificar/{cert.folio}")


@pytest.mark.parametrize("folio", ["ZZZZ-ZZZZ-ZZZZ-ZZZZ", "nada", "K7QM-3XPA-9RTD-W2H%25", "1%20OR%201=1"])
def test_a_wrong_folio_reveals_nothing(client, folio):
    _certificate()
    response = client.get(f"/verificar/{folio}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "No encontramos un certificado con ese folio" in page
    for leaked in ("María", "Excel intermedio", "Capacitaciones del Sur", "válido", "revocado"):
        assert leaked not in page


def test_an_unknown_and_a_malformed_folio_get_the_same_answer(client):
    _certificate()
    unknown = client.get("/verificar", query_string={"folio": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    malformed = client.get("/verificar", query_string={"folio": "<script>"})
    assert unknown.status_code == malformed.status_code == 404
    def strip(r):
        return (r.get_data(as_text=True).replace("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "").replace("&lt;script&gt;", ""))
    assert strip(unknown) == strip(malformed)


def test_verification_is_rate_limited_per_address(app):
    cert = _certificate()
    throttled = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR")},
                            "ENV": "testing", "SECRET_KEY": "t", "RATELIMIT_ENABLED": True,
                            "RATELIMIT_STORAGE_URI": "memory://"})
    try:
        client = throttled.test_client()
        answers = [client.get(f"/verificar/ZZZZ-ZZZZ-ZZZZ-ZZ{i:02d}", environ_base={"REMOTE_ADDR": "10.9.9.9"})
                   .status_code for i in range(20)]
        assert set(answers) == {404}
        refused = client.get(f"/verificar/{cert.folio}", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert refused.status_code == 429 and "Demasiados intentos" in refused.get_data(as_text=True)
        other = client.get(f"/verificar/{cert.folio}", environ_base={"REMOTE_ADDR": "10.9.9.10"})
        assert other.status_code == 200
    finally:
        limiter.enabled = False

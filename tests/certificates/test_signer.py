"""The OTEC's signer settings: name and title, and an optional signature image that is checked and re-encoded."""

import io

from PIL import Image

from app.certificates.models import CertificateSigner
from app.extensions import db
from tests.factories import login, make_user
from tests.sence.builders import make_otec


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (400, 120), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_admin_sets_the_signer_with_a_signature_image(client, app):
    otec = make_otec()
    login(client, make_user("admin"))
    response = client.post(f"/certificados/otecs/{otec.id}/firma", data={
        "signer_name": "Marta  Rojas", "signer_title": "Directora académica",
        "signature": (io.BytesIO(_png()), "firma.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    signer = db.session.get(CertificateSigner, otec.id)
    assert (signer.signer_name, signer.signer_title) == ("Marta Rojas", "Directora académica")
    assert signer.signature_file.endswith(".png") and "firma" not in signer.signature_file
    page = client.get(f"/certificados/otecs/{otec.id}/firma").get_data(as_text=True)
    assert "Firma actual" in page
    image = client.get(f"/certificados/otecs/{otec.id}/firma.png")
    assert image.mimetype == "image/png" and Image.open(io.BytesIO(image.data)).size == (400, 120)


def test_a_file_that_is_not_an_image_is_refused_and_changes_nothing(client):
    otec = make_otec()
    login(client, make_user("admin"))
    response = client.post(f"/certificados/otecs/{otec.id}/firma", data={
        "signer_name": "Marta Rojas", "signer_title": "Directora",
        "signature": (io.BytesIO(b"<html><script>alert(1)</script>"), "firma.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "no es una imagen PNG o JPG legible" in response.get_data(as_text=True)
    assert db.session.get(CertificateSigner, otec.id) is None


def test_the_signer_name_is_required(client):
    otec = make_otec()
    login(client, make_user("admin"))
    response = client.post(f"/certificados/otecs/{otec.id}/firma", data={"signer_name": "", "signer_title": "X"})
    assert response.status_code == 422 and "Este campo es obligatorio" in response.get_data(as_text=True)

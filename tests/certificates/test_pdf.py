"""The certificate PDF, read back with poppler (pdfinfo, pdftotext) as a person or a printer would read it."""

import shutil
import subprocess

import pytest

from app.certificates import service
from tests.certificates.helpers import certificate_row
from tests.factories import enroll, make_course, make_user
from tests.sence.builders import make_otec

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (make browser)")


def _poppler(tool: str, pdf: bytes, tmp_path, *args) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, *args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def _certificate(**fields):
    otec = make_otec(name="Capacitaciones del Sur SpA")
    course = make_course(title="Excel intermedio", hours=24, sence={"otec_id": otec.id})
    user = make_user(full_name=fields.pop("full_name", "María José Núñez"), run="12345678-5")
    enroll(course, user)
    return certificate_row(course, user, otec, **fields)


def test_the_pdf_is_an_a4_landscape_page_with_everything_a_diploma_says(tmp_path):
    cert = _certificate()
    pdf = service.pdf_of(cert)
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Pages:           1" in info and "841.89 x 595.28 pts (A4)" in info
    text = " ".join(_poppler("pdftotext", pdf, tmp_path, "-layout").split())
    for expected in ("CERTIFICADO", "María José Núñez", "RUN 12.345.678-5", "«Excel intermedio»",
                     "24 horas", "nota final 6,2", "Capacitaciones del Sur SpA", "RUT 76.123.456-0",
                     "Marta Rojas", "Directora académica", cert.folio, f"http://localhost/verificar/{cert.folio}"):
        assert expected in text, expected


def test_without_a_grade_the_certificate_says_none(tmp_path):
    text = _poppler("pdftotext", service.pdf_of(_certificate(final_grade=None)), tmp_path)
    assert "nota final" not in text


def test_a_name_outside_latin1_is_printed_with_its_closest_letters(tmp_path):
    cert = _certificate(full_name="Zoë Łukasz Đorđević")
    text = _poppler("pdftotext", service.pdf_of(cert), tmp_path)
    assert "Zoë Lukasz Dordevic" in text


def test_the_signature_image_is_drawn_when_the_otec_uploaded_one(tmp_path):
    from PIL import Image

    signature = tmp_path / "firma.png"
    Image.new("L", (300, 100), 0).save(signature)
    otec_cert = _certificate()
    stored = service.save_signer(otec_cert.course.sence.otec, "Marta Rojas", "Directora", signature.read_bytes())
    with_image = service.pdf_of(certificate_row(otec_cert.course, make_user(), otec_cert.course.sence.otec,
                                                signature_file=stored.signature_file))
    images = subprocess.run(["pdfimages", "-list", "-"], input=with_image, capture_output=True)
    if images.returncode != 0:  # older poppler reads no stdin: write it out
        path = tmp_path / "s.pdf"
        path.write_bytes(with_image)
        images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True)
    listed = images.stdout.decode().splitlines()[2:]
    assert len(listed) >= 2  # the QR code and the signature

"""An approved participant downloads their certificate in Chromium; the PDF, rendered to an image with pdftoppm,
shows their name and folio (read back with tesseract), its QR code (decoded from that image) opens the public
page that says "válido", and after the OTEC revokes it from the Cierre page the same page says "revocado"."""

import re
import shutil
import subprocess
from difflib import SequenceMatcher

import pytest
from PIL import Image

from app.certificates import service
from tests.browser.conftest import ARTIFACTS, no_horizontal_scroll, sign_in
from tests.closeout.helpers import finished_course, participant
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser
TOOLS = ("pdftoppm", "tesseract")


def _render(pdf_path, out_dir) -> Image.Image:
    for tool in TOOLS:
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: make browser installs poppler-utils and tesseract-ocr")
    subprocess.run(["pdftoppm", "-png", "-r", "300", "-singlefile", str(pdf_path), str(out_dir / "cert")], check=True)
    return Image.open(out_dir / "cert.png")


def _ocr(png_path) -> str:
    return subprocess.run(["tesseract", str(png_path), "-", "-l", "spa"], capture_output=True, text=True,
                          check=True).stdout


# Glyphs tesseract confuses in Courier (seen: G read as 6); the folio alphabet holds both of each. O is not in it
# (Crockford's alphabet), so an O read is a 0 (seen: FN0Z-0NP2 read as FNOZ-ONP2).
OCR_LOOKALIKES = str.maketrans("6852O", "GBSZ0")


def _shows_folio(text: str, folio: str) -> bool:
    """The folio is printed twice (its own line and the verification URL): true when OCR read it whole in either,
    or within a slip or two (an inserted, dropped or misread glyph) of it."""
    compact = re.sub(r"[^0-9A-Z]", "", text.upper()).translate(OCR_LOOKALIKES)
    target = folio.replace("-", "").translate(OCR_LOOKALIKES)
    if target in compact:
        return True
    windows = (compact[i:i + len(target) + 1] for i in range(max(1, len(compact) - len(target))))
    return max(SequenceMatcher(None, window, target).ratio() for window in windows) >= 0.9


def test_a_participant_downloads_a_certificate_whose_qr_verifies_until_it_is_revoked(page, browser, live, shot,
                                                                                    tmp_path):
    import zxingcpp

    course = finished_course(title="Atención al cliente")
    ana = participant(course, "Ana María Pérez", email="ana.maria@correo.cl")
    cert = service.issue(course, ana, None)

    sign_in(page, live, ana.email, PASSWORD)
    page.goto(f"{live.url}/cursos/{course.id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Descargar certificado (PDF)").click()
    pdf_path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")

    image = _render(pdf_path, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    assert image.width > image.height  # landscape
    shutil.copy(tmp_path / "cert.png", ARTIFACTS / "certificate-pdf.png")
    text = _ocr(tmp_path / "cert.png")
    assert "Ana María Pérez" in text and "CERTIFICADO" in text
    assert _shows_folio(text, cert.folio)
    [qr] = zxingcpp.read_barcodes(image)
    assert qr.text == f"{live.url}/verificar/{cert.folio}"

    context = browser.new_context(locale="es-CL")  # a buyer checking the diploma: nobody signed in
    visitor = context.new_page()
    visitor.goto(qr.text)
    assert visitor.get_by_text("Certificado válido").is_visible()
    assert visitor.get_by_text("Ana María Pérez").is_visible()
    shot(visitor, "certificate-verify-valid")

    admin = make_user("admin", email="admin@capacita.cl")
    page.get_by_role("button", name="Salir").click()
    sign_in(page, live, admin.email, PASSWORD)
    page.goto(f"{live.url}/cierre/cursos/{course.id}")
    shot(page, "closeout-page")
    row = page.locator("table.certificates tr", has_text=cert.folio)
    row.locator("summary", has_text="Revocar").click()
    row.get_by_label("Motivo (queda registrado)").first.fill("Emitido por error")
    row.get_by_role("button", name="Revocar el certificado").click()
    assert page.get_by_text(f"Certificado {cert.folio} revocado.").is_visible()

    visitor.reload()
    assert visitor.get_by_text("Certificado revocado").is_visible()
    assert visitor.get_by_text("Certificado válido").count() == 0
    shot(visitor, "certificate-verify-revoked")
    context.close()


def test_the_verification_page_fits_a_phone(phone_page, live, shot):
    course = finished_course()
    cert = service.issue(course, participant(course, "Bernardo Ignacio Soto Valenzuela"), None)
    phone_page.goto(f"{live.url}/verificar/{cert.folio}")
    assert phone_page.get_by_text("Certificado válido").is_visible()
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "certificate-verify-phone")
    phone_page.goto(f"{live.url}/verificar")
    phone_page.get_by_label("Folio del certificado").fill("zzzz zzzz zzzz zzzz")
    phone_page.get_by_role("button", name="Verificar").click()
    assert phone_page.get_by_text("No encontramos un certificado con ese folio").is_visible()


def test_the_closeout_page_fits_a_phone(phone_page, live, shot):
    course = finished_course(title="Atención al cliente para equipos de venta y postventa")
    service.issue(course, participant(course, "Ana María Pérez Rojas"), None)
    participant(course, "Bernardo Ignacio Soto Valenzuela", sessions=0)
    admin = make_user("admin", email="admin.phone@capacita.cl")
    sign_in(phone_page, live, admin.email, PASSWORD)
    phone_page.goto(f"{live.url}/cierre/cursos/{course.id}")
    assert phone_page.get_by_text("Lista para la DJ del OTEC (1)").is_visible()
    assert phone_page.get_by_text("Sin sesiones SENCE contadas").is_visible()
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "closeout-page-phone")
    phone_page.get_by_role("link", name="Firma de los certificados").click()
    phone_page.get_by_label("Nombre de quien firma").fill("Marta Rojas Fuentes")
    phone_page.get_by_label("Cargo").fill("Directora académica")
    phone_page.get_by_role("button", name="Guardar").click()
    assert phone_page.get_by_text("Firma de los certificados guardada.").is_visible()
    assert no_horizontal_scroll(phone_page)
    shot(phone_page, "signer-phone")

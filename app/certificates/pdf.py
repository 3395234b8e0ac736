"""The certificate as a PDF: A4 landscape, a diploma's layout in black ink only (it prints well in B/W).

fpdf2 draws it (pure Python, no system libraries) and segno makes the QR code that points to the public
verification page. The PDF's built-in fonts (Times, Helvetica) cover Latin-1, i.e. every Spanish letter;
any other character in a name is spelled with its closest Latin-1 letters rather than dropped.
"""

import io
import unicodedata
from pathlib import Path

import segno
from fpdf import FPDF

from app.certificates.models import Certificate
from app.certificates.text import grade, hours, long_date, run_dotted
from app.timeutil import to_chile

PAGE_W, PAGE_H = 297, 210  # mm
_TYPOGRAPHY = str.maketrans({"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...",
                             "•": "*", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe",
                             "ı": "i", "Ħ": "H", "ħ": "h"})


def latin1(text: str | None) -> str:
    """What the built-in PDF fonts can print: Latin-1 as is, anything else by its base letters."""
    text = unicodedata.normalize("NFC", (text or "").translate(_TYPOGRAPHY))
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


class _Diploma(FPDF):
    def centered(self, text: str, size: float, style: str = "", family: str = "Times", gap: float = 2) -> None:
        self.set_font(family, style, size)
        self.multi_cell(PAGE_W - 60, size * 0.45, latin1(text), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, PAGE_W - 28, PAGE_H - 28)


def _body(pdf: _Diploma, cert: Certificate) -> None:
    pdf.set_xy(30, 26)
    pdf.centered(cert.otec_name, 14, "B", family="Helvetica", gap=0)
    pdf.centered(f"RUT {run_dotted(cert.otec_rut)}", 10, family="Helvetica", gap=8)
    pdf.centered("CERTIFICADO", 36, "B", gap=1)
    pdf.centered("de aprobación", 16, "I", gap=4)
    pdf.set_line_width(0.4)
    pdf.line(PAGE_W / 2 - 30, pdf.get_y(), PAGE_W / 2 + 30, pdf.get_y())
    pdf.ln(6)
    pdf.centered("Se certifica que", 13, gap=2)
    pdf.centered(cert.participant_name, 28, "B", gap=0)
    if cert.participant_run:
        pdf.centered(f"RUN {run_dotted(cert.participant_run)}", 12, gap=6)
    pdf.centered("aprobó el curso", 13, gap=2)
    pdf.centered(f"«{cert.course_title}»", 19, "B", gap=3)
    details = f"con una duración de {hours(cert.hours)} horas"
    if cert.start_date and cert.end_date:
        details += f", realizado entre el {long_date(cert.start_date)} y el {long_date(cert.end_date)}"
    if cert.final_grade is not None:
        details += f", con nota final {grade(cert.final_grade)}"
    pdf.centered(details + ".", 12)


def _signature(pdf: FPDF, cert: Certificate, signatures_dir: Path) -> None:
    x, line_y, width = PAGE_W / 2 - 40, 168, 80
    image = signatures_dir / cert.signature_file if cert.signature_file else None
    if image is not None and image.is_file():
        pdf.image(str(image), x=x + 10, y=line_y - 22, w=width - 20, h=20, keep_aspect_ratio=True)
    pdf.set_line_width(0.3)
    pdf.line(x, line_y, x + width, line_y)
    pdf.set_xy(x - 20, line_y + 1)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(width + 40, 5, latin1(cert.signer_name or cert.otec_name), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(width + 40, 4.5, latin1(cert.signer_title or "OTEC"), align="C")


def _verification(pdf: FPDF, cert: Certificate, verify_url: str) -> None:
    size = 30
    x, y = PAGE_W - 22 - size, PAGE_H - 22 - size
    pdf.image(io.BytesIO(qr_png(verify_url)), x=x, y=y, w=size, h=size)
    right = x - 3
    lines = (("Helvetica", "", 8, 4, "Folio"), ("Courier", "B", 12, 9, cert.folio),
             ("Helvetica", "", 8, 4, "Verifique este certificado en"), ("Helvetica", "", 7, 4, verify_url))
    top = y + 4
    for family, style, size, height, text in lines:
        pdf.set_font(family, style, size)
        pdf.set_xy(right - 90, top)
        pdf.cell(90, 4, latin1(text), align="R")
        top += height
    pdf.set_xy(22, PAGE_H - 30)
    pdf.set_font("Helvetica", "", 9)
    issued = to_chile(cert.issued_at).date() if cert.issued_at else None
    pdf.cell(80, 5, latin1(f"Emitido el {long_date(issued)}"))


def render(cert: Certificate, verify_url: str, signatures_dir: Path) -> bytes:
    """The certificate's PDF; the same certificate renders the same page every time."""
    pdf = _Diploma(orientation="L", unit="mm", format="A4")
    pdf.set_title(latin1(f"Certificado {cert.folio}"))
    pdf.set_author(latin1(cert.otec_name))
    pdf.set_creator("Pizarra")
    pdf.set_auto_page_break(False)
    pdf.set_margins(30, 20, 30)
    pdf.add_page()
    _frame(pdf)
    _body(pdf, cert)
    _signature(pdf, cert, signatures_dir)
    _verification(pdf, cert, verify_url)
    return bytes(pdf.output())

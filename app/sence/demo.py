"""Demo SENCE data: an OTEC with one token, and the demo course configured for the simulator (idempotent)."""

from sqlalchemy import select

from app.extensions import db
from app.sence import tokens
from app.sence.models import Otec, SenceToken
from app.sence.settings import settings_of

OTEC_NAME = "OTEC Demo Capacitación"
OTEC_RUT = "76543210-3"
# A made-up token: the simulator accepts any well-formed one unless its registry lists the OTEC.
DEMO_TOKEN = "8FCF0D5A-1B2C-4D3E-9F40-A1B2C3D44F8F"  # noqa: S105 (demo only)
COD_SENCE = "1238000001"
CODIGO_CURSO = "EXC-INT-2025-0001"


def _otec() -> Otec:
    otec = db.session.execute(select(Otec).where(Otec.rut == OTEC_RUT)).scalar_one_or_none()
    if otec is None:
        otec = Otec(name=OTEC_NAME, rut=OTEC_RUT)
        db.session.add(otec)
    if not otec.tokens:
        db.session.add(SenceToken(otec=otec, label="Token demo", token_encrypted=tokens.encrypt(DEMO_TOKEN),
                                  hint=tokens.mask(DEMO_TOKEN)))
    db.session.flush()
    return otec


def seed(course) -> None:
    """Configure `course` only if nobody has chosen an OTEC for it yet (keeps an admin's changes)."""
    otec = _otec()
    settings = settings_of(course)
    if settings.otec_id is None:
        settings.otec_id = otec.id
        settings.linea, settings.cod_sence, settings.codigo_curso = 3, COD_SENCE, CODIGO_CURSO
        settings.environment = "simulator"
        settings.login_required = True
    db.session.flush()

"""SENCE test data: an OTEC with a token, a configured course, and answers shaped like SENCE's."""

import re
from datetime import timedelta
from html import unescape

from app.extensions import db
from app.sence import protocol, tokens
from app.sence.models import Otec, SenceToken
from app.timeutil import utcnow
from tests.factories import enroll, login, make_course, make_user

TOKEN = "8FCF0D5A-1B2C-4D3E-9F40-A1B2C3D44F8F"
OTEC_RUT = "76123456-0"
COD_SENCE = "1237981234"
CODIGO_CURSO = "FT-2025-0001234"


def make_otec(token: str | None = TOKEN, **fields) -> Otec:
    otec = Otec(name=fields.get("name", "OTEC Prueba"), rut=fields.get("rut", OTEC_RUT))
    db.session.add(otec)
    if token:
        db.session.add(SenceToken(otec=otec, label="principal", token_encrypted=tokens.encrypt(token),
                                  hint=tokens.mask(token)))
    db.session.commit()
    return otec


def sence_course(otec: Otec | None = None, **sence):
    otec = otec or make_otec()
    settings = {"otec_id": otec.id, "linea": 3, "cod_sence": COD_SENCE, "codigo_curso": CODIGO_CURSO,
                "environment": "simulator"}
    settings.update(sence)
    return make_course(sence=settings)


def participant_in(course, **fields):
    user = make_user("participant", **fields)
    enroll(course, user)
    return user


def signed_in_participant(client, course, **fields):
    user = participant_in(course, **fields)
    login(client, user)
    return user


def form_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the auto-submit form, as the browser would post them."""
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    return {unescape(name): unescape(value) for name, value in pairs if name != "csrf_token"}


def form_action(html: str) -> str:
    return unescape(re.search(r'<form method="post" action="([^"]+)" data-sence-autosubmit', html).group(1))


def start(client, course, kind: str = "iniciar", via_popup: bool = True):
    response = client.post(f"/sence/cursos/{course.id}/{kind}", data={"via_popup": "1" if via_popup else "0"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return form_fields(response.get_data(as_text=True))


def success_answer(sent: dict[str, str], when=None, **overrides) -> dict[str, str]:
    """What SENCE posts to UrlRetoma for the request `sent` (login answers carry IdSesionSence)."""
    answer = {name: sent.get(name, "") for name in ("CodSence", "CodigoCurso", "IdSesionAlumno", "RunAlumno",
                                                     "LineaCapacitacion")}
    answer["FechaHora"] = protocol.format_fecha_hora(when or utcnow())
    answer["ZonaHoraria"] = "America/Santiago"
    if "IdSesionSence" not in sent:
        answer["IdSesionSence"] = "48213579061234567890"
    answer.update(overrides)
    return answer


def error_answer(sent: dict[str, str], glosa: str, **overrides) -> dict[str, str]:
    answer = success_answer(sent, **overrides)
    if "IdSesionSence" in sent:
        answer.pop("IdSesionSence", None)
    answer["GlosaError"] = glosa
    return answer


def minutes_ago(minutes: int):
    return utcnow() - timedelta(minutes=minutes)

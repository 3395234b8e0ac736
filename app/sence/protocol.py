"""SENCE RCE (Registro de Conexiones E-learning) protocol: field names, lengths, codes, parsing.

One module, no Flask, so it can be read beside ``../shared/sence/RCE-PROTOCOL.md`` and the manuals
(v1.1.2, authoritative; v1.1.6 for ClaveÚnica, line 6 and codes 307-313) and tested alone.
Everything that SENCE sends us is untrusted text: the parsers here never raise on it.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stdnum.cl import rut as _rut
from stdnum.exceptions import ValidationError

SANTIAGO = ZoneInfo("America/Santiago")

LOGIN_PATH = "/Registro/IniciarSesion"
LOGOUT_PATH = "/Registro/CerrarSesion"  # the 2019 slides say CierreSesion; the manual is right
MAX_RETURN_URL = 100
PLACEHOLDER = "-1"  # manual §4: CodSence/CodigoCurso "-1" skips course checks, test environment only
PLACEHOLDER_ENVIRONMENTS = ("test", "simulator")
# SENCE's 2019 slides: a session not closed within 3 hours does not count. The manual sets no limit, so a
# course may ask for less, never more; reports count at most this much of any session.
SESSION_LIMIT_MAX_MINUTES = 180

# Manual v1.1.6 §3.2 names the lines; v1.1.2 called 1 "Sistema Integrado de Capacitación" and
# 3 "Impulsa Personas"; Anexo 5 adds "Becas Laborales" to line 1.
LINEAS = {
    1: "Programas Sociales / Becas Laborales",
    3: "Franquicia Tributaria / Impulsa Personas",
    6: "FPT",
}

# Request fields in the manual's order (§3.2 login, §3.3 logout).
LOGIN_FIELDS = (
    "RutOtec",
    "Token",
    "CodSence",
    "CodigoCurso",
    "LineaCapacitacion",
    "RunAlumno",
    "IdSesionAlumno",
    "UrlRetoma",
    "UrlError",
)
LOGOUT_FIELDS = (
    "RutOtec",
    "Token",
    "CodSence",
    "CodigoCurso",
    "LineaCapacitacion",
    "RunAlumno",
    "IdSesionAlumno",
    "IdSesionSence",
    "UrlRetoma",
    "UrlError",
)
# Answer fields, as SENCE POSTs them back (§3.2, §3.3). Logout answers carry no IdSesionSence.
LOGIN_SUCCESS_FIELDS = (
    "CodSence",
    "CodigoCurso",
    "IdSesionAlumno",
    "IdSesionSence",
    "RunAlumno",
    "FechaHora",
    "ZonaHoraria",
    "LineaCapacitacion",
)
LOGIN_ERROR_FIELDS = (*LOGIN_SUCCESS_FIELDS, "GlosaError")
LOGOUT_SUCCESS_FIELDS = tuple(f for f in LOGIN_SUCCESS_FIELDS if f != "IdSesionSence")
LOGOUT_ERROR_FIELDS = (*LOGOUT_SUCCESS_FIELDS, "GlosaError")
ANSWER_FIELDS = LOGIN_ERROR_FIELDS

# "Largo" column of the manual. LineaCapacitacion and GlosaError are "Entero" without a length:
# the values below are our own bounds for reading them (GlosaError may hold "211;204").
FIELD_MAX = {
    "RutOtec": 10,
    "Token": 36,
    "CodSence": 10,
    "CodigoCurso": 50,
    "LineaCapacitacion": 2,
    "RunAlumno": 10,
    "IdSesionAlumno": 149,
    "IdSesionSence": 149,
    "UrlRetoma": 100,
    "UrlError": 100,
    "FechaHora": 19,
    "ZonaHoraria": 100,
    "GlosaError": 100,
}
ENTERO_FIELDS = ("LineaCapacitacion", "GlosaError")  # no "Largo" in the manual

RAW_MAX_FIELDS = 30
RAW_MAX_KEY = 64
RAW_MAX_VALUE = 500
SECRET_FIELDS = ("token",)  # compared case-insensitively: never logged, never echoed

TOKEN_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

HELP_LINKS = [
    ("ClaveÚnica (portal ciudadano)", "https://claveunica.gob.cl/"),
    ("Registrar Clave SENCE", "https://cus.sence.cl/Account/Registrar"),
    ("Recuperar Clave SENCE", "https://cus.sence.cl/Account/RecuperarClave"),
    ("Cambiar Clave SENCE", "https://cus.sence.cl/Account/CambiarClave"),
    ("Actualizar datos en SENCE", "https://cus.sence.cl/Account/ActualizarDatos"),
]


# --- RUN / RUT -------------------------------------------------------------------------------


def sence_run(run: str) -> str:
    """Normalise a RUN/RUT to SENCE's ``12345678-9`` (no dots, hyphen, upper-case K).

    SENCE refuses anything else with 207/209, so the LMS normalises before posting.
    Raises ValueError when it is not a valid RUN (length, digits or check digit).
    """
    if not isinstance(run, str):
        raise ValueError("El RUN debe ser texto.")
    compact = _rut.compact(run[:40]).lstrip("0")
    try:
        _rut.validate(compact)
    except ValidationError as exc:
        raise ValueError(f"RUN inválido: {exc}") from exc
    return f"{compact[:-1]}-{compact[-1]}"


def is_sence_run(value: str) -> bool:
    """True when ``value`` is already in SENCE's exact format (what the real service checks)."""
    try:
        return sence_run(value) == value
    except ValueError:
        return False


def _normalise_or_keep(value: str) -> str:
    try:
        return sence_run(value)
    except ValueError:
        return (value or "").strip()


def is_token_well_formed(token: str | None) -> bool:
    """SENCE's tokens are UUIDs (36 chars); anything else is refused with 303."""
    return bool(token) and bool(TOKEN_RE.match(token.strip()))


# --- Building requests -----------------------------------------------------------------------


def login_url(base: str) -> str:
    """Login endpoint for a base such as ``https://sistemas.sence.cl/rcetest``."""
    return base.rstrip("/") + LOGIN_PATH


def logout_url(base: str) -> str:
    return base.rstrip("/") + LOGOUT_PATH


def login_fields(
    *,
    rut_otec: str,
    token: str,
    cod_sence: str | None,
    codigo_curso: str,
    linea: int,
    run_alumno: str,
    id_sesion_alumno: str,
    url_retoma: str,
    url_error: str,
) -> dict[str, str]:
    """The login POST (§3.2), as strings in the manual's order.

    RUT/RUN are normalised when valid and otherwise sent as typed, so SENCE's own answer
    (207/209) reaches the participant and the admin instead of an exception here.
    """
    values = {
        "RutOtec": _normalise_or_keep(rut_otec),
        "Token": (token or "").strip(),
        "CodSence": (cod_sence or "").strip(),
        "CodigoCurso": (codigo_curso or "").strip(),
        "LineaCapacitacion": str(linea).strip(),
        "RunAlumno": _normalise_or_keep(run_alumno),
        "IdSesionAlumno": id_sesion_alumno,
        "UrlRetoma": url_retoma,
        "UrlError": url_error,
    }
    return {name: values[name] for name in LOGIN_FIELDS}


def logout_fields(*, id_sesion_sence: str, **login_kwargs) -> dict[str, str]:
    """The logout POST (§3.3): the login fields plus the IdSesionSence returned at login."""
    values = login_fields(**login_kwargs)
    values["IdSesionSence"] = (id_sesion_sence or "").strip()
    return {name: values[name] for name in LOGOUT_FIELDS}


def new_id_sesion_alumno() -> str:
    """A fresh IdSesionAlumno: 192 random bits, URL-safe, 32 chars (manual max 149).

    The callback is unsigned, so this unguessable value is what ties an answer to its attempt.
    """
    return secrets.token_urlsafe(24)


# --- Validation (what SENCE would refuse) ----------------------------------------------------

Problem = tuple[str, int, str]  # (field name, SENCE error code, Spanish message)


def validate_course_codes(linea: int, cod_sence: str, codigo_curso: str, environment: str) -> list[Problem]:
    """Check the course codes as SENCE does (206, 204, 205) before sending a participant there.

    CodSence: exactly 10 chars for line 3, blank for line 1 (Anexo 5); line 6 (FPT, v1.1.6) has no
    rule in the manual, so blank or 10 chars is accepted. CodigoCurso: 7-50 chars, no minimum for FPT.
    ``-1`` is accepted for either only in the test environment (and our simulator).
    """
    text = str(linea).strip()[:4]
    line = int(text) if text.isascii() and text.isdigit() else None  # int("٣") would be 3
    if line not in LINEAS:
        return [("LineaCapacitacion", 206, "La línea de capacitación debe ser 1, 3 o 6.")]
    placeholder_ok = environment in PLACEHOLDER_ENVIRONMENTS
    problems = []
    sence_problem = _cod_sence_problem(line, (cod_sence or "").strip(), placeholder_ok)
    if sence_problem:
        problems.append(("CodSence", 204, sence_problem))
    curso_problem = _codigo_curso_problem(line, (codigo_curso or "").strip(), placeholder_ok)
    if curso_problem:
        problems.append(("CodigoCurso", 205, curso_problem))
    return problems


def _cod_sence_problem(line: int, value: str, placeholder_ok: bool) -> str | None:
    if value == PLACEHOLDER:
        if line == 1:
            return "En la línea 1 (Programas Sociales) el código SENCE debe ir en blanco."
        return None if placeholder_ok else "El valor -1 sólo se acepta en el ambiente de pruebas."
    if line == 1:
        return None if not value else "En la línea 1 (Programas Sociales) el código SENCE debe ir en blanco."
    if line == 6 and not value:
        return None
    if len(value) != FIELD_MAX["CodSence"]:
        return "El código SENCE debe tener exactamente 10 caracteres."
    return None


def _codigo_curso_problem(line: int, value: str, placeholder_ok: bool) -> str | None:
    if value == PLACEHOLDER:
        return None if placeholder_ok else "El valor -1 sólo se acepta en el ambiente de pruebas."
    minimum = 1 if line == 6 else 7
    if not minimum <= len(value) <= FIELD_MAX["CodigoCurso"]:
        if line == 6:
            return "El código del curso es obligatorio y tiene como máximo 50 caracteres."
        return "El código del curso debe tener entre 7 y 50 caracteres."
    return None


def validate_rut_otec(rut: str) -> list[Problem]:
    """209 when the OTEC's RUT is malformed or its check digit is wrong."""
    try:
        sence_run(rut)
    except ValueError:
        return [("RutOtec", 209, "El RUT del OTEC no es válido (formato 76123456-7, revise el dígito verificador).")]
    return []


def check_return_url(url: str | None, field_name: str = "UrlRetoma") -> tuple[int, str] | None:
    """(code, message) for what SENCE would say about UrlRetoma/UrlError, None when usable.

    201 when empty; 202 (UrlRetoma) or 203 (UrlError) when not an absolute http(s) URL without
    blanks, or longer than the manual's 100 characters.
    """
    value = (url or "").strip()
    if not value:
        return 201, f"{field_name} está vacía: ambas URL de retorno son obligatorias."
    code = 203 if field_name == "UrlError" else 202
    if len(value) > MAX_RETURN_URL:
        return code, f"{field_name} tiene {len(value)} caracteres; SENCE acepta como máximo {MAX_RETURN_URL}."
    if not _is_absolute_http_url(value):
        return code, f"{field_name} debe ser una URL absoluta http(s), sin espacios."
    return None


def _is_absolute_http_url(value: str) -> bool:
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_return_url(url: str | None) -> str | None:
    """Spanish message when a return URL would be refused (201/202/203 or > 100 chars), else None."""
    problem = check_return_url(url)
    return problem[1] if problem else None


# --- Error table (Annex 2) -------------------------------------------------------------------


@dataclass(frozen=True)
class SenceError:
    """One GlosaError code: what the participant should do, and the technical cause for the admin.

    ``who`` says who must act: "participant", "otec" or "sence". ``manual`` is the manual's own
    description (v1.1.6 when it has the code, else v1.1.2), kept verbatim for the admin and tests.
    """

    code: int
    title: str
    participant_message: str
    admin_message: str
    who: str
    manual: str = ""


_CONTACT_OTEC = "Contacta a tu OTEC e indícale el código {code}."
_OTEC_CONFIG = "No pudimos registrar tu asistencia por un problema en la configuración del curso. " + _CONTACT_OTEC
_SENCE_DOWN = (
    "SENCE tuvo un problema interno y no registró tu asistencia. Espera unos minutos y vuelve a "
    "intentarlo; si se repite, contacta a tu OTEC (código {code})."
)


def _e(code: int, who: str, title: str, participant: str, admin: str, manual: str) -> SenceError:
    return SenceError(code, title, participant.format(code=code), admin, who, manual)


# fmt: off
_TABLE = [
    _e(100, "participant", "Clave incorrecta",
       "La clave no es correcta o aún no tienes Clave SENCE. Vuelve a intentarlo; si no la recuerdas, "
       "recupérala con los enlaces de ayuda (ClaveÚnica en https://claveunica.gob.cl/).",
       "El participante ingresó tres veces una clave incorrecta, o no tiene clave. No es un error de "
       "configuración; puede reintentar de inmediato.",
       "Contraseña incorrecta o el usuario no tiene Clave SENCE."),
    _e(200, "otec", "Faltan parámetros", _OTEC_CONFIG,
       "El POST llegó con un parámetro obligatorio vacío, sólo con espacios o mal escrito (p. ej. RutAlumno "
       "en vez de RunAlumno). Revise RutOtec, Token, CodigoCurso, LineaCapacitacion, RunAlumno e "
       "IdSesionAlumno (e IdSesionSence en el cierre).",
       "El POST tiene uno o más parámetros mandatorios sin información. Esto también ocurre cuando un "
       "parámetro está mal escrito (por ejemplo, RutAlumno en lugar de RunAlumno), o cuando se ingresan sólo "
       "espacios en blanco en un parámetro obligatorio."),
    _e(201, "otec", "Faltan URL de retorno", _OTEC_CONFIG,
       "UrlRetoma y/o UrlError llegaron vacías. Revise PUBLIC_BASE_URL de la plataforma.",
       "La URL de Retoma y/o URL de Error no tienen información. Ambos parámetros son obligatorios en todos "
       "los POST."),
    _e(202, "otec", "UrlRetoma inválida", _OTEC_CONFIG,
       "UrlRetoma tiene formato incorrecto: debe ser absoluta, http(s) y de 100 caracteres como máximo. "
       "Revise PUBLIC_BASE_URL.",
       "La URL de Retoma tiene formato incorrecto."),
    _e(203, "otec", "UrlError inválida", _OTEC_CONFIG,
       "UrlError tiene formato incorrecto: debe ser absoluta, http(s) y de 100 caracteres como máximo. "
       "Revise PUBLIC_BASE_URL.",
       "La URL de Error tiene formato incorrecto."),
    _e(204, "otec", "Código SENCE inválido", _OTEC_CONFIG,
       "CodSence tiene menos de 10 caracteres o SENCE no lo reconoce (debe ir en blanco en la línea 1). "
       "Corrija el código SENCE en la configuración del curso.",
       "El Código SENCE tiene menos de 10 caracteres y/o no es código válido."),
    _e(205, "otec", "Código de curso inválido", _OTEC_CONFIG,
       "CodigoCurso (ID de acción / folio) tiene menos de 7 caracteres o SENCE no lo reconoce. Corrija el "
       "código del curso en su configuración.",
       "El Código Curso tiene menos de 7 caracteres y/o no es código válido."),
    _e(206, "otec", "Línea de capacitación inválida", _OTEC_CONFIG,
       "LineaCapacitacion no es válida: 1 (Programas Sociales), 3 (Franquicia Tributaria) o 6 (FPT).",
       "La línea de capacitación es incorrecta."),
    _e(207, "otec", "RUN del participante inválido",
       "El RUN registrado en tu perfil no es válido. Revisa tu RUN o contacta a tu OTEC para corregirlo "
       "(código {code}).",
       "RunAlumno tiene formato incorrecto o dígito verificador erróneo. Corrija el RUN en el perfil del "
       "participante (formato 12345678-9, sin puntos, K mayúscula).",
       "El Run Alumno tiene formato incorrecto, o tiene el dígito verificador incorrecto."),
    _e(208, "otec", "RUN no autorizado en el curso",
       "SENCE indica que tu RUN no está inscrito en este curso. Contacta a tu OTEC para que revise la "
       "nómina de participantes (código {code}).",
       "El RUN no figura en la nómina del curso en SENCE. Revise la nómina comunicada (OTIC/empresa o SIC) "
       "y que el RUN del perfil sea el correcto.",
       "El Run Alumno no está autorizado para realizar el curso."),
    _e(209, "otec", "RUT del OTEC inválido", _OTEC_CONFIG,
       "RutOtec tiene formato incorrecto o dígito verificador erróneo. Corrija el RUT del OTEC "
       "(76123456-7, sin puntos).",
       "El Rut OTEC tiene formato incorrecto, o tiene el dígito verificador incorrecto."),
    _e(210, "participant", "Se acabó el tiempo",
       "Se acabaron los 3 minutos para ingresar tu RUN y clave en SENCE. Vuelve a intentarlo con tu clave "
       "a mano.",
       "El participante demoró más de tres minutos en la página de SENCE. No es un error de configuración.",
       "Expiró el tiempo disponible para el ingreso de RUT y Contraseña. El tiempo disponible es de tres "
       "minutos."),
    _e(211, "otec", "Token no pertenece al OTEC", _OTEC_CONFIG,
       "El token enviado no pertenece al RUT del OTEC. Revise que el token y el RUT configurados "
       "correspondan (los token se administran en https://sistemas.sence.cl/rts).",
       "El Token no pertenece al OTEC."),
    _e(212, "otec", "Token no vigente", _OTEC_CONFIG,
       "El token está vencido o fue dado de baja. Genere uno nuevo en https://sistemas.sence.cl/rts y "
       "regístrelo en la plataforma.",
       "El Token no está vigente."),
    _e(300, "sence", "Error interno de SENCE", _SENCE_DOWN,
       "Error interno no clasificado de SENCE. Repórtelo a SENCE con la mayor cantidad de antecedentes "
       "(fecha y hora, RUN, códigos, IdSesionAlumno).",
       "Error interno no clasificado, se debe reportar al SENCE con la mayor cantidad de antecedentes "
       "disponibles."),
    _e(301, "otec", "No se registró la sesión", _OTEC_CONFIG,
       "SENCE no pudo registrar el inicio o cierre: la línea de capacitación o el código del curso son "
       "incorrectos. Revise la configuración SENCE del curso.",
       "No se pudo registrar el ingreso o cierre de sesión. Esto ocurre cuando la Línea de Capacitación es "
       "incorrecta, o el Código de Curso es incorrecto."),
    _e(302, "sence", "SENCE no validó al OTEC", _SENCE_DOWN,
       "SENCE no pudo validar la información del organismo. Repórtelo a SENCE con la mayor cantidad de "
       "antecedentes.",
       "No se pudo validar la información del Organismo, se debe reportar al SENCE con la mayor cantidad de "
       "antecedentes disponibles."),
    _e(303, "otec", "Token inexistente o mal formado", _OTEC_CONFIG,
       "El token no existe en SENCE o no tiene formato UUID (36 caracteres). Copie nuevamente el token "
       "desde https://sistemas.sence.cl/rts.",
       "El Token no existe, o su formato es incorrecto."),
    _e(304, "sence", "SENCE no verificó los datos", _SENCE_DOWN,
       "SENCE no pudo verificar los datos enviados. Repórtelo a SENCE adjuntando los parámetros del inicio "
       "o cierre (el registro de intercambios, sin el token).",
       "No se pudieron verificar los datos enviados, se debe reportar al SENCE con la mayor cantidad de "
       "antecedentes disponibles (ej. enviar parámetros de inicio o cierre de sesión según corresponda)"),
    _e(305, "sence", "SENCE no registró la información", _SENCE_DOWN,
       "SENCE no pudo registrar la información. Repórtelo a SENCE adjuntando los parámetros del inicio o "
       "cierre (el registro de intercambios, sin el token).",
       "No se pudo registrar la información, se debe reportar al SENCE con la mayor cantidad de antecedentes "
       "disponibles. (ej. enviar parámetros de inicio o cierre de sesión según corresponda)"),
    _e(306, "otec", "Código de curso no corresponde", _OTEC_CONFIG,
       "CodigoCurso no corresponde al CodSence enviado. Revise ambos códigos en la configuración del curso.",
       "El Código Curso no corresponde al código SENCE."),
    _e(307, "otec", "Curso sin modalidad e-learning", _OTEC_CONFIG,
       "SENCE indica que el CodigoCurso no tiene modalidad e-learning.",
       "El Código Curso no tiene modalidad E-learning."),
    _e(308, "otec", "Curso de otro OTEC", _OTEC_CONFIG,
       "El CodigoCurso no corresponde al RUT del OTEC enviado. Revise el código del curso y el RUT del OTEC.",
       "El Código Curso no corresponde al RUT OTEC"),
    _e(309, "otec", "Curso fuera de fechas",
       "SENCE indica que hoy no está dentro de las fechas de ejecución del curso. Contacta a tu OTEC "
       "(código {code}).",
       "Las fechas de ejecución comunicadas a SENCE para el CodigoCurso no incluyen la fecha actual.",
       "Las fechas de ejecución comunicadas para el Código Curso no corresponden a la fecha actual."),
    _e(310, "otec", "Curso terminado o anulado",
       "SENCE indica que el curso está terminado o anulado. Contacta a tu OTEC (código {code}).",
       "El CodigoCurso está en estado Terminado o Anulado en SENCE.",
       "El Código Curso está en estado Terminado o Anulado."),
    _e(311, "participant", "RUN distinto en ClaveÚnica",
       "Ingresaste a ClaveÚnica con un RUN distinto al inscrito en el curso. Vuelve a intentarlo con tu "
       "propia ClaveÚnica; si el RUN de tu perfil está mal, contacta a tu OTEC.",
       "El RUN usado en ClaveÚnica no coincide con RunAlumno. O ingresó otra persona, o el RUN del perfil "
       "del participante está mal.",
       "Run ingresado en el Login de Clave Única no corresponde con Run alumno informado por el ejecutor."),
    _e(312, "participant", "ClaveÚnica no completó el ingreso",
       "No se pudo completar el ingreso con ClaveÚnica. Vuelve a intentarlo; si no recuerdas tu clave, "
       "recupérala en https://claveunica.gob.cl/.",
       "La autenticación con ClaveÚnica no se completó. Si se repite con varios participantes, repórtelo a "
       "SENCE.",
       "No se pudo completar la autenticación con Clave Única."),
    _e(313, "otec", "URL de cierre incorrecta", _OTEC_CONFIG,
       "SENCE rechazó la URL de cierre de sesión. Revise que el cierre se envíe a .../Registro/CerrarSesion "
       "del mismo ambiente (test o producción) que el inicio.",
       "URL de Cierre de sesión Incorrecta."),
]
# fmt: on

ERRORS: dict[int, SenceError] = {entry.code: entry for entry in _TABLE}

_CODE_RE = re.compile(r"^\d{1,9}$")


def describe(code: int | str | None) -> SenceError:
    """The table entry for a GlosaError code, or a clear generic entry for anything unknown.

    SENCE has added codes over the years (307-313 in v1.1.6), so an unknown one must still say
    something useful to both the participant and the admin.
    """
    text = str(code if code is not None else "").strip()[:40]
    number = int(text) if _CODE_RE.match(text) else None
    if number in ERRORS:
        return ERRORS[number]
    shown = _printable(text) or "(vacío)"
    return SenceError(
        code=number if number is not None else -1,
        title="Error no documentado de SENCE",
        participant_message=(
            f"SENCE no pudo registrar tu asistencia (código {shown}). Vuelve a intentarlo en unos minutos; "
            "si se repite, contacta a tu OTEC."
        ),
        admin_message=(
            f"SENCE respondió con un código que no está en su manual: «{shown}». Revise el registro de "
            "intercambios y, si se repite, repórtelo a SENCE con los antecedentes."
        ),
        who="sence",
    )


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())


# --- Answers ---------------------------------------------------------------------------------

_GLOSA_SPLIT = re.compile(r"[;,|\s]+")
_MAX_CODES = 10


def parse_glosa(text: str | None) -> list[str]:
    """GlosaError as a list of code strings: documented as an integer, seen as "211;204"."""
    if not text:
        return []
    parts = _GLOSA_SPLIT.split(_clean(str(text), FIELD_MAX["GlosaError"]))
    return [part[:20] for part in parts if part and not _is_zero(part)][:_MAX_CODES]


def _is_zero(code: str) -> bool:
    """GlosaError "0" (or "00") names no error: integrations report it on successes, and no table lists it."""
    return code.isascii() and code.isdigit() and int(code) == 0


def _clean(value: object, limit: int) -> str:
    """Untrusted text to a bounded, trimmed string without control characters (NUL breaks PostgreSQL)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text[: limit * 4 + 64]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs"))
    return text.strip()[:limit]


@dataclass
class Answer:
    """What SENCE (or anyone: the callback is unsigned) POSTed to UrlRetoma/UrlError, cleaned."""

    cod_sence: str = ""
    codigo_curso: str = ""
    id_sesion_alumno: str = ""
    id_sesion_sence: str = ""
    run_alumno: str = ""
    fecha_hora: str = ""
    zona_horaria: str = ""
    linea_capacitacion: str = ""
    glosa_error: str = ""
    error_codes: list[str] = field(default_factory=list)
    is_error: bool = False
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def linea(self) -> int | None:
        text = self.linea_capacitacion
        return int(text) if text.isascii() and text.isdigit() else None

    @property
    def errors(self) -> list[SenceError]:
        return [describe(code) for code in self.error_codes]


_ANSWER_ATTRS = {
    "CodSence": "cod_sence",
    "CodigoCurso": "codigo_curso",
    "IdSesionAlumno": "id_sesion_alumno",
    "IdSesionSence": "id_sesion_sence",
    "RunAlumno": "run_alumno",
    "FechaHora": "fecha_hora",
    "ZonaHoraria": "zona_horaria",
    "LineaCapacitacion": "linea_capacitacion",
    "GlosaError": "glosa_error",
}


def parse_answer(form: Mapping[str, str]) -> Answer:
    """Read an answer POST without ever raising, whatever arrives.

    It is an error when GlosaError holds anything: login errors carry an IdSesionSence too, so
    the presence of IdSesionSence proves nothing.
    """
    values = {attr: _clean(_get(form, name), FIELD_MAX[name]) for name, attr in _ANSWER_ATTRS.items()}
    answer = Answer(**values)
    answer.error_codes = parse_glosa(answer.glosa_error)
    answer.is_error = bool(answer.error_codes)
    answer.raw = _raw(form)
    return answer


def _get(form: Mapping, name: str) -> object:
    try:
        return form.get(name)
    except Exception:  # a hostile mapping must not break the callback
        return None


def _raw(form: Mapping) -> dict[str, str]:
    """Every posted field, bounded in count and size, never the token: for the exchange log."""
    raw: dict[str, str] = {}
    try:
        keys = list(form.keys())[: RAW_MAX_FIELDS * 2]
    except Exception:  # same
        return raw
    for key in keys:
        name = _clean(key, RAW_MAX_KEY)
        if not name or _is_secret(name) or _is_secret(str(key)):
            continue
        raw[name] = _clean(_get(form, key), RAW_MAX_VALUE)
        if len(raw) >= RAW_MAX_FIELDS:
            break
    return raw


def _is_secret(name: str) -> bool:
    return name.strip().lower() in SECRET_FIELDS


def redact(fields: Mapping) -> dict:
    """A copy without the Token (any spelling of its case), for the exchange log and the screen."""
    return {key: value for key, value in fields.items() if not _is_secret(str(key))}


# --- FechaHora -------------------------------------------------------------------------------

_TIME = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d{1,7})?)?(?:\s*(?P<ampm>[ap])\.?\s*m\.?)?"
_ISO_RE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\s+" + _TIME + "$", re.IGNORECASE)
_DMY_RE = re.compile(r"^(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4})\s+" + _TIME + "$", re.IGNORECASE)
_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$", re.IGNORECASE)
_IANA_RE = re.compile(r"^[A-Za-z][A-Za-z_]*(?:/[A-Za-z0-9_+\-]+){1,2}$")
_UTC_NAMES = {"utc", "gmt", "z", "zulu", "utc+0", "utc-0", "gmt+0", "gmt-0", "utc+00:00", "etc/utc"}
_CHILE_HINTS = ("santiago", "chile", "pacific sa", "clt", "clst")


def parse_fecha_hora(fecha_hora: str | None, zona_horaria: str | None, received_at: datetime) -> tuple[datetime, bool]:
    """SENCE's FechaHora (local ``aaaa-mm-dd hh:mm:ss``) as an aware UTC instant.

    The official start time is SENCE's, so we keep it; but the manual never shows a ZonaHoraria
    value, so we read it as America/Santiago unless the text clearly names another zone. Returns
    (instant, flagged): flagged=True with ``received_at`` when FechaHora cannot be read.
    """
    received = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
    local = _parse_local(_clean(fecha_hora, 40))
    if local is None:
        return received.astimezone(UTC), True
    zone = zone_from_text(_clean(zona_horaria, FIELD_MAX["ZonaHoraria"]))
    return local.replace(tzinfo=zone).astimezone(UTC), False


def _parse_local(text: str) -> datetime | None:
    text = re.sub(r"(\d)[Tt](\d)", r"\1 \2", text.replace("/", "-"))
    text = re.sub(r"\s+", " ", text)
    match = _ISO_RE.match(text) or _DMY_RE.match(text)
    if not match:
        return None
    hour = int(match["H"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["ampm"].lower() == "p" else 0)
    try:
        return datetime(int(match["y"]), int(match["m"]), int(match["d"]), hour, int(match["M"]), int(match["S"] or 0))
    except ValueError:
        return None


def zone_from_text(text: str) -> timezone | ZoneInfo:
    """The zone a ZonaHoraria text names; America/Santiago when it names none we can trust.

    Chile's names win over offsets: Windows' "(UTC-04:00) Santiago" shows the winter offset even
    in summer, so a fixed -04:00 would be an hour wrong half the year.
    """
    value = text.strip()
    lowered = value.lower()
    if not value or any(hint in lowered for hint in _CHILE_HINTS):
        return SANTIAGO
    if lowered in _UTC_NAMES:
        return UTC
    offset = _OFFSET_RE.match(value)
    if offset:
        return _fixed_offset(offset) or SANTIAGO
    if _IANA_RE.match(value):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return SANTIAGO
    return SANTIAGO


def _fixed_offset(match: re.Match) -> timezone | None:
    hours, minutes = int(match["h"]), int(match["m"] or 0)
    if hours > 14 or minutes >= 60:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match["sign"] == "-" else delta)


def format_fecha_hora(instant: datetime) -> str:
    """An instant as SENCE writes FechaHora: ``aaaa-mm-dd hh:mm:ss`` in Chile's local time."""
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return aware.astimezone(SANTIAGO).strftime("%Y-%m-%d %H:%M:%S")

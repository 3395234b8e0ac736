"""What the simulator checks in an IniciarSesion/CerrarSesion POST, in the order SENCE plausibly does.

``-1`` as CodSence/CodigoCurso is accepted only under ``/rcetest`` (manual §4: "sólo en el Ambiente
Test"); under ``/rce`` it answers 204/205 like any other invalid code.

Each failed check yields one manual code (Annex 2). The simulator answers with the first one, or
with all of them joined by ";" when SIMULATOR_JOIN_CODES is set (public integrations report that
SENCE sometimes does this, e.g. "211;204"). Checks of a field that is blank are skipped: the blank
field already yields 200.
"""

from datetime import date

from app.sence import protocol
from app.simulator.registry import Registry

LOGIN = "login"
LOGOUT = "logout"
BASES = {"rce": "production", "rcetest": "test"}  # manual Annex 1: the only two paths SENCE serves

# Blank -> 200. CodSence may be blank (line 1; 204 decides), the return URLs have their own 201.
_MANDATORY = ("RutOtec", "Token", "CodigoCurso", "LineaCapacitacion", "RunAlumno", "IdSesionAlumno")


def request_fields(form, kind: str) -> dict[str, str]:
    """The manual's request fields, stripped and bounded (never more than 1000 chars each)."""
    names = protocol.LOGIN_FIELDS if kind == LOGIN else protocol.LOGOUT_FIELDS
    return {name: str(form.get(name) or "")[:1000].strip() for name in names}


def url_error_problem(fields: dict[str, str]) -> tuple[int, str] | None:
    """UrlError itself unusable: the simulator cannot answer at all (shown as a page instead)."""
    return protocol.check_return_url(fields.get("UrlError"), "UrlError")


def problems(fields: dict[str, str], kind: str, registry: Registry, today: date, base: str = "rcetest") -> list[int]:
    """Every code SENCE would answer for this request, first the most fundamental."""
    environment = BASES.get(base, "production")
    codes: list[int] = []
    retoma = protocol.check_return_url(fields.get("UrlRetoma"), "UrlRetoma")
    if retoma:
        codes.append(retoma[0])
    codes += _blank_or_too_long(fields, kind)
    codes += _otec_checks(fields, registry, today)
    codes += _course_checks(fields, environment)
    codes += _run_checks(fields)
    if not codes:
        codes += _registry_course_checks(fields, registry, today, environment)
    return list(dict.fromkeys(codes))


def _blank_or_too_long(fields: dict[str, str], kind: str) -> list[int]:
    """200: blank mandatory field, or an identifier longer than the manual allows (no closer code)."""
    mandatory = _MANDATORY + (("IdSesionSence",) if kind == LOGOUT else ())
    ids = ("IdSesionAlumno", "IdSesionSence")
    blank = any(not fields.get(name) for name in mandatory)
    too_long = any(len(fields.get(name, "")) > protocol.FIELD_MAX[name] for name in ids)
    return [200] if blank or too_long else []


def _otec_checks(fields: dict[str, str], registry: Registry, today: date) -> list[int]:
    codes = []
    rut, token = fields.get("RutOtec", ""), fields.get("Token", "")
    if rut and not protocol.is_sence_run(rut):
        codes.append(209)
    if token and not protocol.is_token_well_formed(token):
        codes.append(303)
    elif token and rut:
        problem = registry.token_problem(rut, token, today)
        if problem:
            codes.append(problem)
    return codes


def _course_checks(fields: dict[str, str], environment: str) -> list[int]:
    if not fields.get("LineaCapacitacion"):
        return []
    found = protocol.validate_course_codes(
        fields["LineaCapacitacion"], fields.get("CodSence", ""), fields.get("CodigoCurso", ""), environment
    )
    return [code for name, code, _ in found if name != "CodigoCurso" or fields.get("CodigoCurso")]


def _run_checks(fields: dict[str, str]) -> list[int]:
    run = fields.get("RunAlumno", "")
    return [207] if run and not protocol.is_sence_run(run) else []


def _registry_course_checks(fields: dict[str, str], registry: Registry, today: date, environment: str) -> list[int]:
    """208, 301, 306–310 for a course the registry lists; only once the request is well formed.

    With ``-1`` in test (§4: "deshabilitará las verificaciones asociadas a esos códigos") the course
    checks, roster included, are skipped.
    """
    placeholder = protocol.PLACEHOLDER in (fields.get("CodSence"), fields.get("CodigoCurso"))
    if placeholder and environment == "test":
        return []
    return registry.course_problems(fields, today)

"""The simulator's pages: SENCE's two endpoints, its login page, and the answers it POSTs back.

Like SENCE, every answer is an auto-submitting HTML form in the participant's browser (a
cross-site top-level POST into the LMS), never a server-to-server call.
"""

import math
import secrets
from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, render_template, request, url_for

from app.sence import protocol
from app.simulator import validation
from app.simulator.registry import RegistryError, load_registry
from app.simulator.state import StateBox
from app.simulator.validation import LOGIN, LOGOUT

bp = Blueprint("simulator", __name__)

PASSWORD = "1234"  # noqa: S105 - the simulator's participant password, shown on its own page
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self' http: https:; base-uri 'none'"
)


@bp.after_request
def _headers(response):
    """CSP without inline scripts (the auto-submit is a static file) and no caching of sealed state."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/")
def index():
    return render_template(
        "simulator/index.html", errors=protocol.ERRORS.values(), password=PASSWORD, lineas=protocol.LINEAS
    )


@bp.post("/<base>/Registro/IniciarSesion")
def iniciar_sesion(base: str):
    return _receive(base, LOGIN)


@bp.post("/<base>/Registro/CerrarSesion")
def cerrar_sesion(base: str):
    return _receive(base, LOGOUT)


@bp.post("/<base>/Registro/Autenticar")
def autenticar(base: str):
    """The simulator's own login form: password, training buttons, or the 3-minute timer."""
    state = _box().open(request.form.get("estado"))
    if state is None:
        return _message(
            "Página vencida",
            "La página del simulador fue alterada o no es válida. "
            "Vuelve a la plataforma del OTEC e inténtalo de nuevo.",
            400,
        )
    action = request.form.get("accion", "ingresar")
    if action == "abandonar":
        return _message(
            "Sin respuesta",
            "Abandonaste el ingreso. Como en ClaveÚnica, SENCE no envía ninguna "
            "respuesta a la plataforma del OTEC. Puedes cerrar esta ventana.",
        )
    if action == "error":
        return _training_error(state)
    if _elapsed(state) > timedelta(seconds=current_app.config["SIMULATOR_TIMEOUT_SECONDS"]):
        return _answer_error(state["fields"], state["kind"], [210])
    if action == "expirar":
        return _login_page(base, state)  # the browser's timer ran ahead of ours: keep waiting
    return _check_password(base, state)


# --- Receiving a request ---------------------------------------------------------------------


def _receive(base: str, kind: str):
    fields = validation.request_fields(request.form, kind)
    cannot_answer = validation.url_error_problem(fields)
    if cannot_answer:
        code, detail = cannot_answer
        return _message(
            f"Error {code}: no se puede responder",
            f"{detail} Sin una UrlError válida SENCE no puede devolver el error a la plataforma del OTEC.",
            400,
        )
    try:
        registry = load_registry(current_app.config["SIMULATOR_REGISTRY"])
    except RegistryError as exc:
        return _message("Registro del simulador inválido", str(exc), 500)
    codes = validation.problems(fields, kind, registry, _now().astimezone(protocol.SANTIAGO).date())
    if codes:
        return _answer_error(fields, kind, codes)
    state = {"kind": kind, "fields": fields, "shown": _now().timestamp(), "wrong": 0}
    return _login_page(base, state)


# --- The login page --------------------------------------------------------------------------


def _login_page(base: str, state: dict, message: str = ""):
    fields = state["fields"]
    timeout = current_app.config["SIMULATOR_TIMEOUT_SECONDS"]
    remaining = max(0, math.ceil(timeout - _elapsed(state).total_seconds()))
    max_wrong = current_app.config["SIMULATOR_MAX_WRONG_PASSWORDS"]
    return render_template(
        "simulator/login.html",
        action=url_for("simulator.autenticar", base=base),
        estado=_box().seal(state),
        is_logout=state["kind"] == LOGOUT,
        run=fields.get("RunAlumno", ""),
        course=_course_summary(fields),
        message=message,
        attempts_left=max_wrong - state["wrong"],
        remaining=remaining,
        errors=protocol.ERRORS.values(),
        help_links=protocol.HELP_LINKS,
        password=PASSWORD,
    )


def _course_summary(fields: dict) -> list[tuple[str, str]]:
    linea = fields.get("LineaCapacitacion", "")
    name = protocol.LINEAS.get(int(linea)) if linea.isascii() and linea.isdigit() else None
    return [
        ("Código SENCE", fields.get("CodSence") or "(en blanco)"),
        ("Código curso", fields.get("CodigoCurso", "")),
        ("Línea", f"{linea} — {name}" if name else linea),
    ]


def _check_password(base: str, state: dict):
    if request.form.get("Clave", "") != PASSWORD:
        state["wrong"] += 1
        if state["wrong"] >= current_app.config["SIMULATOR_MAX_WRONG_PASSWORDS"]:
            return _answer_error(state["fields"], state["kind"], [100])
        return _login_page(base, state, "RUN o clave incorrectos.")
    try:
        entered = protocol.sence_run(request.form.get("RUN", ""))
    except ValueError:
        return _login_page(base, state, "Ingresa un RUN válido, por ejemplo 12345678-5.")
    if entered != state["fields"]["RunAlumno"]:
        return _answer_error(state["fields"], state["kind"], [311])
    return _answer_success(state["fields"], state["kind"])


def _training_error(state: dict):
    code = request.form.get("codigo", "")
    if not (code.isascii() and code.isdigit() and int(code) in protocol.ERRORS):
        return _message("Código desconocido", "Elige un código de la lista.", 400)
    return _answer_error(state["fields"], state["kind"], [int(code)])


# --- Answers ---------------------------------------------------------------------------------


def _answer_success(fields: dict, kind: str):
    names = protocol.LOGIN_SUCCESS_FIELDS if kind == LOGIN else protocol.LOGOUT_SUCCESS_FIELDS
    answer = _answer_values(fields, names)
    title = "Inicio de sesión registrado" if kind == LOGIN else "Cierre de sesión registrado"
    return _autopost(fields["UrlRetoma"], answer, title)


def _answer_error(fields: dict, kind: str, codes: list[int]):
    """POST the error to UrlError; login errors carry an IdSesionSence too, as in the manual."""
    names = protocol.LOGIN_ERROR_FIELDS if kind == LOGIN else protocol.LOGOUT_ERROR_FIELDS
    answer = _answer_values(fields, names)
    shown = codes if current_app.config["SIMULATOR_JOIN_CODES"] else codes[:1]
    answer["GlosaError"] = ";".join(str(code) for code in shown)
    return _autopost(fields["UrlError"], answer, f"Error {answer['GlosaError']}")


def _answer_values(fields: dict, names: tuple[str, ...]) -> dict[str, str]:
    now = _now()
    generated = {
        "IdSesionSence": _new_id_sesion_sence(),
        "FechaHora": protocol.format_fecha_hora(now),
        "ZonaHoraria": current_app.config["SIMULATOR_ZONA_HORARIA"],
        "GlosaError": "",
    }
    values = {}
    for name in names:
        value = generated[name] if name in generated else fields.get(name, "")
        values[name] = value[: protocol.FIELD_MAX[name]]
    return values


def _new_id_sesion_sence() -> str:
    """20 random digits: SENCE's ids are opaque, and the LMS must echo them at logout."""
    return "".join(secrets.choice("0123456789") for _ in range(20))


def _autopost(action: str, fields: dict[str, str], title: str):
    return render_template("simulator/autopost.html", action=action, fields=fields, title=title)


def _message(title: str, text: str, status: int = 200):
    return render_template("simulator/message.html", title=title, text=text), status


# --- Helpers ---------------------------------------------------------------------------------


def _box() -> StateBox:
    return StateBox(current_app.config["SECRET_KEY"])


def _now() -> datetime:
    """The injectable clock (SIMULATOR_NOW), as an aware UTC datetime."""
    now = current_app.config["SIMULATOR_NOW"]()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _elapsed(state: dict) -> timedelta:
    return _now() - datetime.fromtimestamp(float(state["shown"]), tz=UTC)

"""SENCE's side of the simulator: the two endpoints, the trip through ClaveÚnica, and the answers it POSTs back.

Manual v1.1.6 (the default): IniciarSesion and CerrarSesion check the request, then send the browser
with a 303 to the ClaveÚnica look-alike on another origin, which sends it back here; only then does
SENCE answer, with an auto-submitting form (a cross-site top-level POST into the LMS) to UrlRetoma or
UrlError. A wrong ClaveÚnica password, or a closed window, sends nothing at all (manual §2, page 7).

Manual v1.1.2 (``SIMULATOR_MANUAL=1.1.2``): SENCE's own page asks for the Clave SENCE, the third wrong
password answers 100 and three minutes answer 210, as that manual says.

In both, the simulator keeps the sessions it opened and checks every CerrarSesion against them.
"""

import math
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature

from app.sence import protocol
from app.simulator import validation
from app.simulator.registry import RegistryError, load_registry
from app.simulator.state import StateBox, signer
from app.simulator.store import Store, Trip
from app.simulator.validation import BASES, LOGIN, LOGOUT

bp = Blueprint("simulator", __name__)

PASSWORD = "1234"  # noqa: S105 - the simulator's participant password, shown on its own page
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self' http: https:; base-uri 'none'"
)
WAIT_REFRESH_SECONDS = 10


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
        "simulator/index.html", errors=protocol.ERRORS.values(), password=PASSWORD, lineas=protocol.LINEAS,
        manual=current_app.config["SIMULATOR_MANUAL"], claveunica=current_app.config["SIMULATOR_CLAVEUNICA_URL"],
    )


@bp.post("/<base>/Registro/IniciarSesion")
def iniciar_sesion(base: str):
    return _receive(base, LOGIN)


@bp.post("/<base>/Registro/CerrarSesion")
def cerrar_sesion(base: str):
    return _receive(base, LOGOUT)


@bp.post("/<base>/Registro/<path:name>")
def other_path(base: str, name: str):
    """A POST to any other path (e.g. the 2019 slides' ``CierreSesion``).

    A request carrying IdSesionSence is a logout sent to a wrong URL: 313 ("URL de Cierre de sesión
    Incorrecta"). Anything else gets a plain 404, as a web server would give: SENCE cannot know where
    to answer a login it does not recognise, and it is stricter not to guess.
    """
    if name not in ("Autenticar",) and request.form.get("IdSesionSence"):
        return _wrong_path()
    return _message("Página no encontrada", f"SENCE no tiene la dirección /{base}/Registro/{name}.", 404)


@bp.get("/<base>/Registro/RetornoClaveUnica")
def retorno_claveunica(base: str):
    """ClaveÚnica sent the browser back: answer the LMS now, or once the late-answer delay has passed."""
    try:
        said = signer(current_app.config["SECRET_KEY"], "claveunica").loads(request.args.get("respuesta", ""))
        trip = _store().trip(str(said["tx"]))
    except (BadSignature, KeyError, TypeError):
        trip = None
    if trip is None or trip.base != base:
        return _message("Solicitud desconocida", "SENCE no reconoce esta solicitud. Vuelve a la plataforma "
                        "del OTEC e inténtalo de nuevo.", 400)
    if trip.answered:
        return _message("Respuesta ya enviada", "SENCE ya envió la respuesta de esta solicitud a la "
                        "plataforma del OTEC. Puedes cerrar esta ventana.", 409)
    due = trip.created_at + max(trip.answer_after, timedelta(minutes=_number(said.get("demora"))))
    if _now() < due:
        return _waiting(due)
    if not _store().claim(trip):
        return _message("Respuesta ya enviada", "SENCE ya envió la respuesta de esta solicitud.", 409)
    return _finish(trip, said)


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
    if base not in BASES:
        if kind == LOGOUT:
            return _wrong_path()
        return _message("Página no encontrada", f"SENCE sólo atiende /rce y /rcetest, no /{base}.", 404)
    try:
        registry = load_registry(current_app.config["SIMULATOR_REGISTRY"])
    except RegistryError as exc:
        return _message("Registro del simulador inválido", str(exc), 500)
    codes = validation.problems(fields, kind, registry, _now().astimezone(protocol.SANTIAGO).date(), base)
    if codes:
        return _answer_error(fields, kind, codes)
    if current_app.config["SIMULATOR_MANUAL"] == "1.1.2":
        state = {"kind": kind, "base": base, "fields": fields, "shown": _now().timestamp(), "wrong": 0}
        return _login_page(base, state)
    answer_after = timedelta(minutes=current_app.config["SIMULATOR_ANSWER_AFTER_MINUTES"])
    trip = _store().new_trip(kind, base, fields, _now(), answer_after)
    return redirect(_claveunica_url(trip), 303)


def _claveunica_url(trip: Trip) -> str:
    solicitud = signer(current_app.config["SECRET_KEY"], "solicitud").dumps({
        "tx": trip.id,
        "tramite": trip.kind,
        "curso": trip.fields.get("CodigoCurso", ""),
        "retorno": url_for("simulator.retorno_claveunica", base=trip.base, _external=True),
    })
    return current_app.config["SIMULATOR_CLAVEUNICA_URL"] + "/openid/authorize?" + urlencode({"solicitud": solicitud})


def _wrong_path():
    fields = validation.request_fields(request.form, LOGOUT)
    if validation.url_error_problem(fields):
        return _message("Error 313", "URL de cierre de sesión incorrecta.", 404)
    return _answer_error(fields, LOGOUT, [313])


def _finish(trip: Trip, said: dict):
    """The ClaveÚnica result becomes SENCE's answer; a logout must match a session SENCE opened."""
    fields = trip.fields
    if said.get("resultado") != "ok":
        return _answer_error(fields, trip.kind, [312])
    if said.get("run") != _run_or_text(fields["RunAlumno"]):
        return _answer_error(fields, trip.kind, [311])
    return _register(trip)


def _register(trip: Trip):
    """Open or close the session at SENCE; 301 when a logout names no open session of this login.

    Manual 301: "No se pudo registrar el ingreso o cierre de sesión". The manual does not say which
    fields SENCE compares; the simulator compares all it can (see store.BOUND_FIELDS) and refuses a
    second close of the same session, so an LMS that drifts from its login is caught here, not at SENCE.
    """
    if trip.kind == LOGIN:
        session = _store().open_session(trip, _new_id_sesion_sence(), _now())
        return _answer_success(trip.fields, LOGIN, session.id_sesion_sence)
    if not _store().close_session(trip, _now()):
        return _answer_error(trip.fields, LOGOUT, [301])
    return _answer_success(trip.fields, LOGOUT)


def _waiting(due: datetime):
    """The late-answer control: SENCE holds the answer; the page asks again every few seconds."""
    local = due.astimezone(protocol.SANTIAGO).strftime("%H:%M:%S")
    return render_template("simulator/waiting.html", due=local, refresh=WAIT_REFRESH_SECONDS)


# --- The v1.1.2 login page -------------------------------------------------------------------


@bp.post("/<base>/Registro/Autenticar")
def autenticar(base: str):
    """The v1.1.2 login form: password, training buttons, or the 3-minute timer."""
    state = _box().open(request.form.get("estado"))
    if state is None or state.get("base", base) != base:
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
    if entered != _run_or_text(state["fields"]["RunAlumno"]):
        return _answer_error(state["fields"], state["kind"], [311])
    trip = Trip("", state["kind"], state.get("base", base), state["fields"], _now())
    return _register(trip)


def _training_error(state: dict):
    code = request.form.get("codigo", "")
    if not (code.isascii() and code.isdigit() and int(code) in protocol.ERRORS):
        return _message("Código desconocido", "Elige un código de la lista.", 400)
    return _answer_error(state["fields"], state["kind"], [int(code)])


# --- Answers ---------------------------------------------------------------------------------


def _answer_success(fields: dict, kind: str, id_sesion_sence: str = ""):
    names = protocol.LOGIN_SUCCESS_FIELDS if kind == LOGIN else protocol.LOGOUT_SUCCESS_FIELDS
    answer = _answer_values(fields, names, id_sesion_sence)
    title = "Inicio de sesión registrado" if kind == LOGIN else "Cierre de sesión registrado"
    return _autopost(fields["UrlRetoma"], answer, title)


def _answer_error(fields: dict, kind: str, codes: list[int]):
    """POST the error to UrlError; login errors carry an IdSesionSence too, as in the manual."""
    names = protocol.LOGIN_ERROR_FIELDS if kind == LOGIN else protocol.LOGOUT_ERROR_FIELDS
    answer = _answer_values(fields, names, _new_id_sesion_sence())
    shown = codes if current_app.config["SIMULATOR_JOIN_CODES"] else codes[:1]
    answer["GlosaError"] = ";".join(str(code) for code in shown)
    return _autopost(fields["UrlError"], answer, f"Error {answer['GlosaError']}")


def _answer_values(fields: dict, names: tuple[str, ...], id_sesion_sence: str) -> dict[str, str]:
    now = _now()
    generated = {
        "IdSesionSence": id_sesion_sence,
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


def _store() -> Store:
    return current_app.extensions["sence_simulator"]


def _box() -> StateBox:
    return StateBox(current_app.config["SECRET_KEY"])


def _now() -> datetime:
    """The injectable clock (SIMULATOR_NOW), as an aware UTC datetime."""
    now = current_app.config["SIMULATOR_NOW"]()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _elapsed(state: dict) -> timedelta:
    return _now() - datetime.fromtimestamp(float(state["shown"]), tz=UTC)


def _number(value) -> float:
    try:
        return min(max(float(value or 0), 0.0), 24 * 60.0)
    except (TypeError, ValueError):
        return 0.0


def _run_or_text(value: str) -> str:
    try:
        return protocol.sence_run(value)
    except ValueError:
        return value

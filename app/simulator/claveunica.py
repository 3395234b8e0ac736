"""The ClaveÚnica look-alike: its own origin (another port), as the real one is for SENCE.

SENCE sends the browser here with a signed ``solicitud``; the participant types RUN and ClaveÚnica
(nothing is pre-filled: ClaveÚnica does not know who SENCE expects). A wrong password keeps the
participant here, as long as they like, with a recovery link, and nothing is sent anywhere (manual
v1.1.6 §2, page 7). The right one sends the browser back to SENCE with a signed ``respuesta`` naming
the RUN that authenticated; SENCE compares it with RunAlumno (311). A training button answers 312.
"""

from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request
from itsdangerous import BadSignature

from app.sence import protocol
from app.simulator.state import signer

bp = Blueprint("claveunica", __name__)

PASSWORD = "1234"  # noqa: S105 - the simulator's ClaveÚnica for everybody, shown on its page
RECOVERY_URL = "https://claveunica.gob.cl/"  # manual §3.2's link; the real page links its own recovery
# form-action governs the redirect back to SENCE after the login POST, so SENCE's origin must pass too.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self' http: https:; base-uri 'none'"
)


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/")
def index():
    return _page("Simulador de ClaveÚnica", "Esta página sólo se usa desde el simulador SENCE.", 200)


@bp.route("/openid/authorize", methods=["GET", "POST"])
def authorize():
    source = request.form if request.method == "POST" else request.args
    solicitud = source.get("solicitud", "")
    try:
        asked = signer(current_app.config["SECRET_KEY"], "solicitud").loads(solicitud)
    except BadSignature:
        return _page("Solicitud inválida", "Esta solicitud de ingreso no es válida. Vuelve a la plataforma "
                     "de tu curso e inténtalo de nuevo.", 400)
    if request.method == "GET":
        return _login(asked, solicitud)
    action = request.form.get("accion", "ingresar")
    if action == "abandonar":
        return _page("Ingreso abandonado", "No se envió nada a SENCE ni a la plataforma de tu curso. "
                     "Puedes cerrar esta ventana.", 200)
    if action == "fallar":
        return _back(asked, {"resultado": "312"})
    return _check(asked, solicitud)


def _check(asked: dict, solicitud: str):
    try:
        run = protocol.sence_run(request.form.get("run", ""))
    except ValueError:
        return _login(asked, solicitud, "Ingresa un RUN válido, por ejemplo 12345678-5.")
    if request.form.get("password", "") != PASSWORD:
        return _login(asked, solicitud, "RUN o ClaveÚnica incorrectos. Inténtalo de nuevo o recupera tu ClaveÚnica.")
    return _back(asked, {"resultado": "ok", "run": run, "demora": request.form.get("demora", "")})


def _back(asked: dict, said: dict):
    respuesta = signer(current_app.config["SECRET_KEY"], "claveunica").dumps({"tx": asked["tx"], **said})
    return redirect(f"{asked['retorno']}?{urlencode({'respuesta': respuesta})}", 303)


def _login(asked: dict, solicitud: str, message: str = ""):
    status = 200 if not message else 401
    return render_template("simulator/claveunica.html", solicitud=solicitud, message=message,
                           is_logout=asked.get("tramite") == "logout", course=asked.get("curso", ""),
                           password=PASSWORD, recovery_url=RECOVERY_URL), status


def _page(title: str, text: str, status: int):
    return render_template("simulator/claveunica_message.html", title=title, text=text), status

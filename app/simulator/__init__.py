"""A stand-alone look-alike of SENCE's RCE, for offline work, demos and tests.

Two small Flask apps that share no database or models with Pizarra, only the protocol module:
SENCE's side (``create_simulator_app``) and, on **another origin**, a ClaveÚnica look-alike
(``create_claveunica_app``), as in manual v1.1.6 where SENCE sends the browser on to ClaveÚnica and
back. Run them with ``flask --app app.simulator.wsgi run --port 5001`` and
``flask --app app.simulator.wsgi:claveunica run --port 5002``; Pizarra's default SENCE_SIMULATOR_URL
is ``http://127.0.0.1:5001/rce``. Both must share SIMULATOR_SECRET_KEY (they sign what the browser carries).

``SIMULATOR_MANUAL=1.1.2`` brings back the old flow (Clave SENCE on SENCE's own page, 100 and 210).
"""

import os
from datetime import UTC, datetime
from importlib import import_module

from flask import Flask

from app.simulator.store import Store

DEV_SECRET_KEY = "simulador-sence-solo-desarrollo"  # noqa: S105 - a simulator, never a real secret
MANUALS = ("1.1.6", "1.1.2")


def _default_now() -> datetime:
    return datetime.now(UTC)


def _claveunica_url() -> str:
    explicit = os.environ.get("SIMULATOR_CLAVEUNICA_URL")
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('SIMULATOR_CLAVEUNICA_PORT') or 5002}"


def _defaults() -> dict:
    return {
        "SECRET_KEY": os.environ.get("SIMULATOR_SECRET_KEY") or DEV_SECRET_KEY,
        "SIMULATOR_MANUAL": os.environ.get("SIMULATOR_MANUAL") or "1.1.6",
        "SIMULATOR_CLAVEUNICA_URL": _claveunica_url(),
        "SIMULATOR_REGISTRY": os.environ.get("SIMULATOR_REGISTRY") or None,  # path or dict
        "SIMULATOR_NOW": _default_now,  # injectable clock (aware UTC), so tests never sleep
        "SIMULATOR_ANSWER_AFTER_MINUTES": float(os.environ.get("SIMULATOR_ANSWER_AFTER_MINUTES") or 0),
        "SIMULATOR_TIMEOUT_SECONDS": 180,  # v1.1.2 §2: three minutes on SENCE's page
        "SIMULATOR_MAX_WRONG_PASSWORDS": 3,  # v1.1.2 §2: the third wrong password answers 100
        "SIMULATOR_JOIN_CODES": os.environ.get("SIMULATOR_JOIN_CODES", "").lower() in ("1", "true", "yes"),
        "SIMULATOR_ZONA_HORARIA": "America/Santiago",
        "MAX_CONTENT_LENGTH": 64 * 1024,  # the real requests are < 1 kB
    }


def _app(config: dict | None) -> Flask:
    app = Flask(__name__, template_folder="templates", static_folder="static",
                static_url_path="/_simulador/static")
    app.config.update(_defaults())
    app.config.update(config or {})
    if app.config["SIMULATOR_MANUAL"] not in MANUALS:
        raise ValueError(f"SIMULATOR_MANUAL must be one of {MANUALS}")
    return app


def create_simulator_app(config: dict | None = None) -> Flask:
    """Build SENCE's side. ``config`` overrides the environment (tests, embedding)."""
    app = _app(config)
    app.extensions["sence_simulator"] = Store()
    from app.simulator.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(import_module("app.simulator.sic").bp)  # SIC endpoints (issue 14)
    return app


def create_claveunica_app(config: dict | None = None) -> Flask:
    """Build the ClaveÚnica look-alike, served on its own origin (another port)."""
    app = _app(config)
    from app.simulator.claveunica import bp

    app.register_blueprint(bp)
    return app

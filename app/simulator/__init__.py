"""A stand-alone look-alike of SENCE's RCE, for offline work, demos and tests.

Its own small Flask app: it shares no database or models with Pizarra, only the protocol module.
Run it with ``flask --app app.simulator.wsgi run --port 5001``; Pizarra's default
SENCE_SIMULATOR_URL is ``http://127.0.0.1:5001/rce``.
"""

import os
from datetime import UTC, datetime
from importlib import import_module

from flask import Flask

DEV_SECRET_KEY = "simulador-sence-solo-desarrollo"  # noqa: S105 - a simulator, never a real secret


def _default_now() -> datetime:
    return datetime.now(UTC)


def _defaults() -> dict:
    return {
        "SECRET_KEY": os.environ.get("SIMULATOR_SECRET_KEY") or DEV_SECRET_KEY,
        "SIMULATOR_REGISTRY": os.environ.get("SIMULATOR_REGISTRY") or None,  # path or dict
        "SIMULATOR_NOW": _default_now,  # injectable clock (aware UTC), so tests never sleep
        "SIMULATOR_TIMEOUT_SECONDS": 180,  # manual §2: three minutes on SENCE's page
        "SIMULATOR_MAX_WRONG_PASSWORDS": 3,  # manual §2: the third wrong password answers 100
        "SIMULATOR_JOIN_CODES": os.environ.get("SIMULATOR_JOIN_CODES", "").lower() in ("1", "true", "yes"),
        "SIMULATOR_ZONA_HORARIA": "America/Santiago",
        "MAX_CONTENT_LENGTH": 64 * 1024,  # the real requests are < 1 kB
    }


def create_simulator_app(config: dict | None = None) -> Flask:
    """Build the simulator. ``config`` overrides the environment (tests, embedding)."""
    app = Flask(
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/_simulador/static",
    )
    app.config.update(_defaults())
    app.config.update(config or {})
    from app.simulator.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(import_module("app.simulator.sic").bp)  # SIC endpoints (issue 14)
    return app

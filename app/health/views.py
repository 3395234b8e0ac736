"""Liveness for load balancers and the benchmark's baseline: no database, no session, no template."""

from flask import Blueprint, Response

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    return Response("ok", mimetype="text/plain", headers={"Cache-Control": "no-store"})

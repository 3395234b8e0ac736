"""Response headers that every page carries (CSP with no inline script, nosniff, referrer policy)."""

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest

NUL_MESSAGE = "Los datos enviados contienen un carácter no válido (carácter nulo). Revísalos e inténtalo de nuevo."


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(app: Flask) -> str:
    sence = {_origin(app.config[k]) for k in ("SENCE_SIMULATOR_URL", "SENCE_TEST_URL", "SENCE_PRODUCTION_URL")}
    form_action = " ".join(["'self'", *sorted(o for o in sence if o)])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; object-src 'self'; frame-src 'self'; base-uri 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'"
    )


def _carries_nul() -> bool:
    values = [*request.args.values(), *request.args.keys()]
    if request.method == "POST":
        values += [*request.form.keys(), *request.form.values()]
        values += [f.filename or "" for f in request.files.values()]
    return any("\x00" in value for value in values)


def refuse_nul_characters():
    """No text we store may hold NUL: PostgreSQL refuses it, so it would surface as a 500 halfway through."""
    if _carries_nul():
        current_app.logger.warning("refused a request with NUL characters: %s %s", request.method, request.path)
        error = BadRequest(NUL_MESSAGE)
        error.pizarra_message = True
        raise error


def init_security(app: Flask) -> None:
    csp = content_security_policy(app)
    app.before_request(refuse_nul_characters)

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

"""Response headers that every page carries (CSP with no inline script, nosniff, referrer policy), request body
limits, and ids that fit the database."""

import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, ValidationError, generate_csrf, same_origin, validate_csrf
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.memo import BoundedMemo

# Routes that take files (they stream them to disk); every other route refuses a large body unread.
UPLOAD_ENDPOINTS = {"courses.material_upload", "admin.import_csv"}
# Cookie-less or signed-out forms anyone can post: the smallest limit.
SMALL_BODY_ENDPOINTS = {"sence.retoma", "sence.url_error", "auth.login", "auth.forgot", "auth.reset"}
DB_INT_MAX = 2**31 - 1  # INTEGER on PostgreSQL; SQLite takes 2**63 but our ids never get near either

NUL_MESSAGE = "Los datos enviados contienen un carácter no válido (carácter nulo). Revísalos e inténtalo de nuevo."


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(app: Flask, form_action: str | None = None) -> str:
    """The site's policy: forms may only go to Pizarra itself and to SENCE (or the simulator)."""
    if form_action is None:
        sence = {_origin(app.config[k]) for k in ("SENCE_SIMULATOR_URL", "SENCE_TEST_URL", "SENCE_PRODUCTION_URL")}
        form_action = " ".join(["'self'", *sorted(o for o in sence if o)])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; object-src 'self'; frame-src 'self'; base-uri 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'"
    )


def trip_content_security_policy(app: Flask) -> str:
    """The policy of the one page that auto-posts to SENCE: its ``form-action`` lets SENCE's redirects through.

    ``form-action`` also governs the redirects that follow a form POST. Under manual v1.1.6, SENCE answers
    IniciarSesion/CerrarSesion by sending the browser on to ClaveÚnica, on another origin that SENCE does
    not document and may change, so the site's policy (SENCE's origin only) stops the trip on our own page.
    ``https:`` lets any secure hop through; outside production the simulator's two http origins are added.
    Everything else (scripts, frames, ancestors) stays as strict as on the rest of the site.
    """
    sources = ["'self'", "https:"]
    if app.config.get("ENV") != "production":
        keys = ("SENCE_SIMULATOR_URL", "SENCE_SIMULATOR_CLAVEUNICA_URL")
        sources += sorted({o for o in (_origin(app.config.get(k) or "") for k in keys) if o})
    return content_security_policy(app, " ".join(sources))


def sence_trip_policy() -> str:
    return current_app.extensions["pizarra_trip_csp"]


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


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` that only matches ids the database can hold: a longer number is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def use_database_ints(app: Flask) -> None:
    """Call before any route is registered: the converter is looked up when a rule is added."""
    app.url_map.converters["int"] = DatabaseIntConverter


def body_limit(endpoint: str | None) -> int:
    config = current_app.config
    if endpoint in UPLOAD_ENDPOINTS:
        return config["MAX_CONTENT_LENGTH"]
    if endpoint in SMALL_BODY_ENDPOINTS:
        return config["MAX_SMALL_FORM_BYTES"]
    return config["MAX_FORM_BYTES"]


def bound_request_body(endpoint: str | None, values: dict | None) -> None:
    """Set this request's body limit from its route, so a too-large body gets 413 from its Content-Length,
    unread (a 20 MB form cost seconds and ~600 MB of memory to parse).

    A URL value preprocessor because Flask runs those before every before_request function, and some of those
    (CSRF, the sign-in throttle's key) read the form.
    """
    request.max_content_length = body_limit(endpoint)


def _signed_in() -> bool:
    """Only a user this request already loaded (static files and the health check never load one)."""
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated)


def _missing_headers(response, defaults: tuple) -> list:
    """The (name, value) pairs of `defaults` the response does not set itself: one pass over its headers, where
    a setdefault per header went over all of them each time (~2 % of the timer poll)."""
    present = {name.lower() for name, _ in response.headers.items()}
    return [(name, value) for name, value in defaults if name.lower() not in present]


def _cache_headers(response) -> None:
    if _signed_in():
        cache = response.headers.get("Cache-Control", "")
        if "no-store" not in cache and "private" not in cache:
            response.headers["Cache-Control"] = "no-store"
        response.headers.add("Vary", "Cookie")


_SIGNED_CSRF_TOKENS = BoundedMemo(4096)


def _csrf_secret() -> str:
    return current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key


def csrf_token() -> str:
    """Flask-WTF's generate_csrf, remembered per worker for each session's token. Signing it anew on every page
    cost ~3 % of a course page; with WTF_CSRF_TIME_LIMIT off the signature's timestamp is never checked, so every
    signed copy of a session's token is as valid as a fresh one. With a time limit, it is signed every time."""
    raw = session.get("csrf_token")
    if "csrf_token" in g or raw is None or current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()
    key = (_csrf_secret(), raw)
    signed = _SIGNED_CSRF_TOKENS.get(key)
    if signed is None:
        signed = _SIGNED_CSRF_TOKENS.keep(key, generate_csrf())
    g.csrf_token = signed
    return signed


_VALID_CSRF_TOKENS = BoundedMemo(4096)


def validate_csrf_once(token: str | None) -> None:
    """Flask-WTF's validate_csrf, remembered per worker for each (key, session token, signed token) it accepted:
    checking the signature cost ~75 µs of an answer save, and with WTF_CSRF_TIME_LIMIT off nothing about an
    accepted token changes. The session's own token is part of the key, so a token is only ever accepted for the
    session it was signed for. With a time limit, it is checked every time. Raises ValidationError."""
    config = current_app.config
    raw = session.get(config["WTF_CSRF_FIELD_NAME"])
    if not token or raw is None or config.get("WTF_CSRF_TIME_LIMIT") is not None:
        validate_csrf(token)
        return
    key = (_csrf_secret(), raw, token)
    if key not in _VALID_CSRF_TOKENS:
        validate_csrf(token)
        _VALID_CSRF_TOKENS.keep(key, True)


class RememberingCSRFProtect(CSRFProtect):
    """CSRFProtect whose check of the token is validate_csrf_once; the rest of protect() is Flask-WTF's (1.3)."""

    def protect(self, apply_exemptions=False):
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        try:
            validate_csrf_once(self._get_csrf_token())
        except ValidationError as e:
            logging.getLogger("flask_wtf.csrf").info(e.args[0])
            self._error_response(e.args[0])
        if request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True


def init_security(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token  # in place of Flask-WTF's global and context processor
    app.context_processor(lambda: {"csrf_token": csrf_token})
    csp = content_security_policy(app)
    app.extensions["pizarra_trip_csp"] = trip_content_security_policy(app)
    hsts = app.config["PUBLIC_BASE_URL"].startswith("https://")
    app.url_value_preprocessor(bound_request_body)
    app.before_request(refuse_nul_characters)

    defaults = (("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "strict-origin-when-cross-origin"), ("X-Frame-Options", "DENY"))
    if hsts:
        defaults += (("Strict-Transport-Security", "max-age=31536000"),)

    @app.after_request
    def set_headers(response):
        response.headers.extend(_missing_headers(response, defaults))
        _cache_headers(response)
        return response

"""Response headers that every page carries (CSP with no inline script, nosniff, referrer policy)."""

from urllib.parse import urlsplit

from flask import Flask


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


def init_security(app: Flask) -> None:
    csp = content_security_policy(app)

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

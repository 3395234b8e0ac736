"""Every response carries the security headers; templates hold nothing the CSP would block."""

import re
from pathlib import Path

import pytest

from app import create_app
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("templates/**/*.html"), *ROOT.glob("app/**/templates/**/*.html")])


@pytest.mark.parametrize("url", ["/ingresar", "/healthz", "/no-existe", "/static/css/app.css"])
def test_every_response_has_the_security_headers(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_csp_lets_forms_post_to_sence_and_the_simulator_only(client, app):
    csp = client.get("/ingresar").headers["Content-Security-Policy"]
    form_action = re.search(r"form-action ([^;]+)", csp).group(1).split()
    assert set(form_action) == {"'self'", "https://sistemas.sence.cl", "http://127.0.0.1:5001"}


def test_the_session_cookie_is_httponly_and_lax(client):
    user = make_user()
    response = client.post("/ingresar", data={"identifier": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_behind_https(app):
    https_app = create_app({"ENV": "testing", "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                            "RATELIMIT_ENABLED": False, "PUBLIC_BASE_URL": "https://pizarra.otec.cl",
                            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    assert https_app.config["SESSION_COOKIE_SECURE"] is True
    user = make_user()
    response = https_app.test_client().post("/ingresar", data={"identifier": user.email, "password": PASSWORD},
                                            base_url="https://pizarra.otec.cl")
    assert "Secure" in response.headers["Set-Cookie"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on (needs eval)"),
]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_hold_nothing_the_csp_blocks(template):
    text = template.read_text(encoding="utf-8")
    found = [label for pattern, label in INLINE if pattern.search(text)]
    assert not found, f"{template.name}: {found}"

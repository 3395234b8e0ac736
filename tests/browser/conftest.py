"""Real headless Chromium against Pizarra on http://localhost and the SENCE simulator on http://127.0.0.1.

Two different *sites*, so the browser treats the simulator's answer as a cross-site POST, like SENCE's.
The simulator's ClaveÚnica look-alike is a third server on another port of 127.0.0.1: another origin,
as the real ClaveÚnica is for SENCE. All run in threads of the test process; Pizarra's shares the test database.
"""

import os
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class _Server:
    """A threaded WSGI server on 127.0.0.1 whose app is set after the port is known."""

    def __init__(self):
        self.wsgi_app = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _dispatch(self, environ, start_response):
        return self.wsgi_app(environ, start_response)

    def start(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.thread.start()

    def stop(self):
        self.server.shutdown()


class Live:
    def __init__(self, url: str, app):
        self.url = url
        self.app = app


@pytest.fixture(scope="session")
def _servers():
    pizarra, simulator, claveunica = _Server(), _Server(), _Server()
    yield pizarra, simulator, claveunica
    pizarra.stop()
    simulator.stop()
    claveunica.stop()


@pytest.fixture(scope="session")
def claveunica_url(_servers) -> str:
    """The simulator's ClaveÚnica look-alike, on its own origin."""
    from app.simulator import create_claveunica_app

    claveunica = _servers[2]
    claveunica.start(create_claveunica_app({"TESTING": True}))
    return f"http://127.0.0.1:{claveunica.port}"


@pytest.fixture(scope="session")
def simulator_url(_servers, claveunica_url) -> str:
    """The simulator as SENCE's v1.1.6 production path (/rce), strict: it knows the test OTEC and courses."""
    from app.simulator import create_simulator_app
    from tests.sence.sence_registry import SIMULATOR_REGISTRY

    simulator = _servers[1]
    simulator.start(create_simulator_app({"TESTING": True, "SIMULATOR_REGISTRY": SIMULATOR_REGISTRY,
                                          "SIMULATOR_CLAVEUNICA_URL": claveunica_url}))
    return f"http://127.0.0.1:{simulator.port}/rce"


@pytest.fixture(scope="session")
def simulator(_servers, simulator_url):
    """The simulator's Flask app, to look at what SENCE's side received (its in-memory store)."""
    return _servers[1].wsgi_app


@pytest.fixture(scope="session")
def live(app, _servers, simulator_url, claveunica_url) -> Live:
    """Pizarra served on http://localhost:<port>, CSRF on, on the same database as the `app` fixture."""
    pizarra = _servers[0]
    url = f"http://localhost:{pizarra.port}"
    live_app = create_app({
        "ENV": "testing",
        "SECRET_KEY": "browser-test-secret",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "PUBLIC_BASE_URL": url,
        "SENCE_SIMULATOR_URL": simulator_url,
        "SENCE_SIMULATOR_CLAVEUNICA_URL": claveunica_url,
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": "",
        "PRIVACY_NOTICE_GATE": False,  # the privacy browser test turns it on
    })
    pizarra.start(live_app)
    yield Live(url, live_app)
    with live_app.app_context():
        from app.extensions import app_engines

        for engine in app_engines():
            engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def _context_page(browser, **options):
    context = browser.new_context(locale="es-CL", timezone_id="America/Santiago", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(browser, live):
    context, page = _context_page(browser, viewport={"width": 1280, "height": 800})
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live):
    context, page = _context_page(browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    yield page
    context.close()


@pytest.fixture
def shot():
    """Save a screenshot under test-artifacts/ (kept by CI as an artifact of the run)."""

    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page, live: Live, identifier: str, password: str) -> None:
    """Sign in through the real form."""
    page.goto(f"{live.url}/ingresar")
    page.get_by_label("RUN o correo").fill(identifier)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url(f"{live.url}/")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def wait_until(page, expression: str, arg=None, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression (or a one-argument function) until it is truthy.

    Playwright's own `wait_for_function` builds its predicate with `new Function` inside the page, which our CSP
    (`script-src 'self'`, no 'unsafe-eval') refuses while it polls; `evaluate` is not subject to the page's CSP.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)

import pytest

from tests.notify.conftest import smtp  # noqa: F401 (the real SMTP server fixture)


@pytest.fixture
def notice_gate(app):
    """The sign-in notice gate, on (it is off elsewhere in the suite, whose participants never saw a notice)."""
    app.config["PRIVACY_NOTICE_GATE"] = True
    yield
    app.config["PRIVACY_NOTICE_GATE"] = False

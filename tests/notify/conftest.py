"""A real SMTP server (aiosmtpd) on 127.0.0.1, in the test process."""

import socket

import pytest
from aiosmtpd.controller import Controller


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append(envelope)
        return "250 OK"


class SmtpServer:
    """Start, stop and restart on one port, like a mail relay going down and coming back."""

    def __init__(self):
        self.inbox = _Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        from email import message_from_bytes, policy

        return [message_from_bytes(e.original_content, policy=policy.default) for e in self.inbox.envelopes]

    def recipients(self):
        return [rcpt for e in self.inbox.envelopes for rcpt in e.rcpt_tos]


@pytest.fixture
def smtp(app):
    server = SmtpServer()
    server.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server
    server.stop()
    app.config.update(saved)

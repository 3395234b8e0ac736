"""Composing and sending outbox messages with the standard library (email, smtplib): no extra dependency."""

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

SMTP_TIMEOUT = 20  # seconds; the sweep, not a participant, waits for it


class PermanentFailure(Exception):
    """The server refused the message for good (5xx); retrying the same message will not help."""


class TransientFailure(Exception):
    """The server could not be reached or answered 4xx; the message waits and is tried again."""


def compose(message, sender: str) -> EmailMessage:
    """An outbox row as an e-mail; the Message-ID is stable so a resend after a crash can be recognised."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = ", ".join(message.recipients)
    email["Subject"] = message.subject
    email["Date"] = formatdate(message.created_at.timestamp(), localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<outbox-{message.id}.{int(message.created_at.timestamp())}@{domain}>"
    email.set_content(message.body)
    return email


class Mailer:
    """One SMTP connection for a sweep, opened on the first message and closed at the end."""

    def __init__(self, config):
        self.host = config.get("MAIL_SERVER") or ""
        self.port = int(config.get("MAIL_PORT") or 25)
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.sender = config.get("MAIL_FROM") or "Pizarra <no-responder@localhost>"
        self._smtp: smtplib.SMTP | None = None

    @property
    def configured(self) -> bool:
        return bool(self.host)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def send(self, message) -> dict:
        """Send one outbox row; returns the recipients the server refused (others got it)."""
        try:
            email = compose(message, self.sender)
        except (ValueError, TypeError) as err:  # e.g. a header with a line break: no retry will fix it
            raise PermanentFailure(f"mensaje mal formado: {err}") from err
        try:
            return self._connection().send_message(email)
        except smtplib.SMTPRecipientsRefused as err:
            text = _describe_refused(err.recipients)
            if all(code >= 500 for code, _ in err.recipients.values()):
                raise PermanentFailure(text) from err
            raise TransientFailure(text) from err
        except smtplib.SMTPResponseException as err:
            self.close()
            text = f"{err.smtp_code} {_text(err.smtp_error)}"
            if 500 <= err.smtp_code < 600:
                raise PermanentFailure(text) from err
            raise TransientFailure(text) from err
        except (smtplib.SMTPException, OSError) as err:
            self.close()
            raise TransientFailure(f"{type(err).__name__}: {err}") from err

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            if self.port == 465:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            self._smtp = smtp
        return self._smtp


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe_refused(recipients: dict) -> str:
    return "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in recipients.items())

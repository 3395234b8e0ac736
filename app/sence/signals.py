"""Signals the SENCE flow sends inside its transaction, so other features (mail) react without coupling.

Receivers must only add rows to the current session (db.session) and never commit: the sender commits.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Attempt (status "failed", error_codes set). Sent before the callback's commit.
attempt_failed = _signals.signal("attempt-failed")
# sender: the SenceSession just opened. Sent before the callback's commit.
session_opened = _signals.signal("session-opened")
# sender: the SenceSession just closed (status "closed"). Sent before the callback's commit.
session_closed = _signals.signal("session-closed")
# sender: the Attempt SENCE answered with a success (login or logout), possibly long after it was sent.
# Sent before the callback's commit, after the session was opened or closed.
attempt_succeeded = _signals.signal("attempt-succeeded")

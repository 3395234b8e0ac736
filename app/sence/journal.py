"""No SENCE answer is ever lost, even when the database connection drops while the callback is processed.

SENCE posts its answer once (the browser carries it); if the transaction dies with the connection
(PostgreSQL restart, failover, `pg_terminate_backend`), the answer is tried once more on a fresh connection.
If that fails too, the raw answer is written durably to a file of its own under SENCE_JOURNAL_DIR
(fsync'ed, renamed into place) and the participant sees a "procesando" page; `flask sweep` replays the kept
answers with their arrival time, so the session is timed as if it had been processed at once. Replaying is
safe to repeat: a second delivery of the same answer is recognised and changes nothing.
"""

import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, discard_session
from app.sence import protocol, service
from app.sence.models import Attempt
from app.timeutil import utcnow

log = logging.getLogger(__name__)
TRIES = 2  # the first try, then one on a fresh connection


@dataclass
class ReplayResult:
    replayed: int = 0
    waiting: int = 0


def journal_dir() -> Path:
    return Path(current_app.config["SENCE_JOURNAL_DIR"])


def receive(endpoint: str, form, meta: service.Meta) -> service.Outcome | None:
    """`service.receive_answer`, retried on a fresh connection; None when the answer had to be kept for later."""
    received_at = utcnow()
    for number in range(1, TRIES + 1):
        try:
            outcome = service.receive_answer(endpoint, form, meta, now=received_at)
        except SQLAlchemyError:
            log.warning("SENCE answer on %s: the database failed (try %s of %s)", endpoint, number, TRIES,
                        exc_info=True)
            discard_session()
            continue
        return outcome if _reloaded(outcome) else None  # committed either way: nothing to keep
    keep(endpoint, _fields(form), meta, received_at)
    return None


def _reloaded(outcome: service.Outcome) -> bool:
    """Load the attempt the commit expired (the answer page needs it), on a fresh connection if need be."""
    if outcome.attempt is None:
        return True
    attempt_id = inspect(outcome.attempt).identity[0]
    for _ in range(TRIES):
        try:
            outcome.attempt = db.session.get(Attempt, attempt_id, populate_existing=True)
            return outcome.attempt is not None
        except SQLAlchemyError:
            discard_session()
    return False


def _fields(form) -> dict[str, str]:
    return protocol.redact({str(key): str(form.get(key) or "") for key in form})


def keep(endpoint: str, fields: dict[str, str], meta: service.Meta, received_at: datetime) -> Path:
    """Write one answer to its own file, durably: a crash leaves either the whole file or none."""
    folder = journal_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{received_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}.json"
    entry = {"endpoint": endpoint, "fields": fields, "meta": asdict(meta), "received_at": received_at.isoformat()}
    partial = folder / f".{name}.partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(entry, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, folder / name)
    _fsync_dir(folder)
    log.error("SENCE answer kept in %s for replay (IdSesionAlumno %s)", folder / name,
              fields.get("IdSesionAlumno", "")[:20])
    return folder / name


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def pending() -> list[Path]:
    folder = journal_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def replay() -> ReplayResult:
    """Process every kept answer as of its arrival; done files move to `replayed/` (kept as evidence).

    Stops at the first database failure: the rest wait for the next sweep.
    """
    result = ReplayResult()
    files = pending()
    for number, path in enumerate(files):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:  # another sweep took it
            continue
        try:
            service.receive_answer(entry["endpoint"], entry["fields"], service.Meta(**entry["meta"]),
                                   now=datetime.fromisoformat(entry["received_at"]))
        except SQLAlchemyError:
            log.warning("replaying %s failed; it stays for the next sweep", path.name, exc_info=True)
            discard_session()
            result.waiting = len(files) - number
            break
        done = path.parent / "replayed"
        done.mkdir(exist_ok=True)
        try:
            os.replace(path, done / path.name)
        except FileNotFoundError:
            continue
        result.replayed += 1
    return result

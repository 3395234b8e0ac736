"""What the simulator remembers between requests: pending trips through ClaveÚnica and the sessions it opened.

Real SENCE keeps both on its side, so the simulator does too (in the memory of its one process; the demo
and the tests each run a single process). A restart forgets everything, so every later CerrarSesion of
a session opened before it answers 301, which is what SENCE would answer for a session it does not know.
Nothing here is a security boundary: the identifiers are random so that browsers cannot guess each other's.
"""

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

KEEP_TRIPS = timedelta(hours=24)  # a participant may stay on ClaveÚnica's page for long; not forever
MAX_TRIPS = 10_000


@dataclass
class Trip:
    """One IniciarSesion/CerrarSesion request waiting for ClaveÚnica (single use)."""

    id: str
    kind: str  # login | logout
    base: str  # rce | rcetest
    fields: dict[str, str]
    created_at: datetime
    answer_after: timedelta = timedelta(0)
    answered: bool = False


@dataclass
class OpenedSession:
    """A session the simulator registered at a successful login: what a CerrarSesion must repeat."""

    id_sesion_sence: str
    base: str
    fields: dict[str, str]  # RutOtec, CodSence, CodigoCurso, LineaCapacitacion, RunAlumno, IdSesionAlumno
    opened_at: datetime
    closed_at: datetime | None = None


# The login fields a CerrarSesion must repeat unchanged (the token may differ: any valid one identifies
# the OTEC, manual §3.1). IdSesionAlumno is not in the manual's list for the logout, but §3.3's table
# calls both "identificador de sesión" and the LMS sends the same one; refusing a different one is stricter.
BOUND_FIELDS = ("RutOtec", "CodSence", "CodigoCurso", "LineaCapacitacion", "RunAlumno", "IdSesionAlumno")


@dataclass
class Store:
    trips: dict[str, Trip] = field(default_factory=dict)
    sessions: dict[str, OpenedSession] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_trip(self, kind: str, base: str, fields: dict, now: datetime, answer_after: timedelta) -> Trip:
        with self.lock:
            self._prune(now)
            trip = Trip(secrets.token_urlsafe(18), kind, base, dict(fields), now, answer_after)
            self.trips[trip.id] = trip
            return trip

    def trip(self, trip_id: str) -> Trip | None:
        with self.lock:
            return self.trips.get(trip_id)

    def claim(self, trip: Trip) -> bool:
        """Mark the trip answered; False when another request answered it first."""
        with self.lock:
            if trip.answered:
                return False
            trip.answered = True
            return True

    def open_session(self, trip: Trip, id_sesion_sence: str, now: datetime) -> OpenedSession:
        bound = {name: trip.fields.get(name, "") for name in BOUND_FIELDS}
        session = OpenedSession(id_sesion_sence, trip.base, bound, now)
        with self.lock:
            self.sessions[id_sesion_sence] = session
        return session

    def close_session(self, trip: Trip, now: datetime) -> bool:
        """Close the session the logout names, if every bound field matches and it is still open."""
        with self.lock:
            session = self.sessions.get(trip.fields.get("IdSesionSence", ""))
            if session is None or session.closed_at is not None or session.base != trip.base:
                return False
            if any(session.fields[name].upper() != trip.fields.get(name, "").upper() for name in BOUND_FIELDS):
                return False
            session.closed_at = now
            return True

    def _prune(self, now: datetime) -> None:
        stale = [key for key, trip in self.trips.items() if now - trip.created_at > KEEP_TRIPS]
        for key in stale:
            del self.trips[key]
        while len(self.trips) >= MAX_TRIPS:
            del self.trips[next(iter(self.trips))]

"""The simulator's idea of SENCE's records: which tokens belong to which OTEC, and the courses it knows.

Without a registry the simulator is permissive (any well-formed token, any valid RUN). With one it
is strict for what it lists, so a demo or a test can meet 208, 211, 212, 301 and 306–310 without
listing every OTEC:

    {"otecs": {"76123456-7": {"tokens": {"<uuid>": {"expires": "2027-01-01", "revoked": false}}}},
     "courses": {"<CodigoCurso>": {"runs": ["11111111-1"], "cod_sence": "1234567890", "linea": 3,
                                   "rut_otec": "76123456-7", "elearning": true,
                                   "start": "2024-01-01", "end": "2030-12-31", "status": "vigente"}}}

Every key of a course is optional; each one it has is checked. A token whose ``expires`` date has
been reached (Chile's date) is no longer valid (212).
"""

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from app.sence.protocol import sence_run

CLOSED_STATUSES = ("terminado", "anulado")  # manual 310: "en estado Terminado o Anulado"


class RegistryError(ValueError):
    """The registry file is unreadable or not shaped as documented."""


@dataclass
class Course:
    """One CodigoCurso as SENCE knows it (None = not listed, so not checked)."""

    runs: set[str] | None = None
    cod_sence: str | None = None
    linea: str | None = None
    rut_otec: str | None = None
    elearning: bool = True
    start: date | None = None
    end: date | None = None
    status: str = "vigente"

    def problems(self, fields: dict[str, str], today: date) -> list[int]:
        """The codes SENCE gives for this course, in the order of the manual's table."""
        codes = []
        if self.linea is not None and fields.get("LineaCapacitacion") != self.linea:
            codes.append(301)  # "ocurre cuando la Línea de Capacitación es incorrecta"
        if self.cod_sence is not None and fields.get("CodSence", "").upper() != self.cod_sence.upper():
            codes.append(306)
        if not self.elearning:
            codes.append(307)
        if self.rut_otec is not None and _run_or_text(fields.get("RutOtec", "")) != self.rut_otec:
            codes.append(308)
        if (self.start and today < self.start) or (self.end and today > self.end):
            codes.append(309)
        if self.status.lower() in CLOSED_STATUSES:
            codes.append(310)
        if self.runs is not None and _run_or_text(fields.get("RunAlumno", "")) not in self.runs:
            codes.append(208)
        return codes


@dataclass
class Registry:
    otecs: dict[str, dict[str, dict]] = field(default_factory=dict)  # RUT -> token (lower) -> info
    courses: dict[str, Course] = field(default_factory=dict)  # CodigoCurso (upper) -> course

    def token_problem(self, rut_otec: str, token: str, today: date) -> int | None:
        """211 when the token is not the OTEC's, 212 when expired or revoked, else None."""
        token = token.strip().lower()
        owner = next((rut for rut, tokens in self.otecs.items() if token in tokens), None)
        if rut_otec not in self.otecs and owner is None:
            return None  # neither listed: permissive
        if owner != rut_otec:
            return 211
        info = self.otecs[rut_otec][token]
        if info.get("revoked"):
            return 212
        expires = info.get("expires")
        return 212 if expires and today >= date.fromisoformat(str(expires)) else None

    def course_problems(self, fields: dict[str, str], today: date) -> list[int]:
        course = self.courses.get(fields.get("CodigoCurso", "").upper())
        return course.problems(fields, today) if course else []


def load_registry(source: str | os.PathLike | dict | None) -> Registry:
    """Build the registry from a dict, a JSON file path, or nothing (permissive)."""
    if not source:
        return Registry()
    data = source if isinstance(source, dict) else _read_json(Path(source))
    try:
        return Registry(otecs=_otecs(data.get("otecs") or {}), courses=_courses(data.get("courses") or {}))
    except (AttributeError, TypeError, ValueError) as exc:
        raise RegistryError(f"Registro del simulador con formato inválido: {exc}") from exc


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError(f"No se pudo leer el registro del simulador {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise RegistryError(f"El registro del simulador {path} debe ser un objeto JSON.")
    return data


def _otecs(raw: dict) -> dict[str, dict[str, dict]]:
    otecs = {}
    for rut, entry in raw.items():
        tokens = (entry or {}).get("tokens") or {}
        otecs[sence_run(rut)] = {str(tok).strip().lower(): dict(info or {}) for tok, info in tokens.items()}
        for info in otecs[sence_run(rut)].values():
            if info.get("expires"):
                date.fromisoformat(str(info["expires"]))  # fail at load time, not mid-login
    return otecs


def _courses(raw: dict) -> dict[str, Course]:
    courses = {}
    for code, entry in raw.items():
        entry = entry or {}
        courses[str(code).upper()] = Course(
            runs={sence_run(run) for run in entry["runs"]} if "runs" in entry else None,
            cod_sence=str(entry["cod_sence"]) if entry.get("cod_sence") is not None else None,
            linea=str(entry["linea"]) if entry.get("linea") is not None else None,
            rut_otec=sence_run(entry["rut_otec"]) if entry.get("rut_otec") else None,
            elearning=bool(entry.get("elearning", True)),
            start=date.fromisoformat(str(entry["start"])) if entry.get("start") else None,
            end=date.fromisoformat(str(entry["end"])) if entry.get("end") else None,
            status=str(entry.get("status") or "vigente"),
        )
    return courses


def _run_or_text(value: str) -> str:
    try:
        return sence_run(value)
    except ValueError:
        return value

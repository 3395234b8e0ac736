"""The simulator's idea of SENCE's records: which tokens belong to which OTEC, and course rosters.

Without a registry the simulator is permissive (any well-formed token, any valid RUN). With one it
is strict only for what it lists, so a demo can show 208/211/212 without listing every OTEC:

    {"otecs": {"76123456-7": {"tokens": {"<uuid>": {"expires": "2027-01-01", "revoked": false}}}},
     "courses": {"<CodigoCurso>": {"runs": ["11111111-1"]}}}

A token whose ``expires`` date has been reached (Chile's date) is no longer valid (212).
"""

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from app.sence.protocol import sence_run


class RegistryError(ValueError):
    """The registry file is unreadable or not shaped as documented."""


@dataclass
class Registry:
    otecs: dict[str, dict[str, dict]] = field(default_factory=dict)  # RUT -> token (lower) -> info
    rosters: dict[str, set[str]] = field(default_factory=dict)  # CodigoCurso -> RUNs

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

    def run_authorised(self, codigo_curso: str, run: str) -> bool:
        """208 applies only to courses whose roster the registry lists."""
        roster = self.rosters.get(codigo_curso)
        return roster is None or run in roster


def load_registry(source: str | os.PathLike | dict | None) -> Registry:
    """Build the registry from a dict, a JSON file path, or nothing (permissive)."""
    if not source:
        return Registry()
    data = source if isinstance(source, dict) else _read_json(Path(source))
    try:
        return Registry(otecs=_otecs(data.get("otecs") or {}), rosters=_rosters(data.get("courses") or {}))
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


def _rosters(raw: dict) -> dict[str, set[str]]:
    rosters = {}
    for code, entry in raw.items():
        if isinstance(entry, dict) and "runs" in entry:
            rosters[str(code)] = {sence_run(run) for run in entry["runs"]}
    return rosters

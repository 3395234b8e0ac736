"""Reading a participants CSV as Excel in Chile saves it: `;` or `,`, UTF-8 with or without BOM (or ANSI)."""

import csv
import io
from dataclasses import dataclass, field

from app.auth.run import InvalidRun, normalize_run

COLUMNS = ("run", "nombre", "correo", "telefono", "celular")
HEADER_ALIASES = {
    "run": "run", "rut": "run", "nombre": "nombre", "nombre completo": "nombre", "correo": "correo",
    "email": "correo", "e-mail": "correo", "correo electronico": "correo", "correo electrónico": "correo",
    "telefono": "telefono", "teléfono": "telefono", "fono": "telefono", "celular": "celular", "movil": "celular",
    "móvil": "celular",
}
MAX_ROWS = 5000


class UnreadableFile(ValueError):
    """The file as a whole cannot be read as a CSV; nothing is imported."""


@dataclass
class Row:
    line: int
    run: str
    full_name: str
    email: str | None
    phone: str | None
    mobile: str | None


@dataclass
class Rejected:
    line: int
    text: str
    reason: str


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def decode(data: bytes) -> str:
    if not data or not data.strip():
        raise UnreadableFile("El archivo está vacío.")
    if b"\x00" in data:
        raise UnreadableFile("El archivo no es un CSV de texto (¿es una planilla .xlsx?). Guárdalo como CSV.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("No se pudo leer el archivo: guárdalo como CSV UTF-8.")


def _delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") >= first_line.count(",") else ","


def _header_map(cells: list[str]) -> dict[str, int] | None:
    """Column positions when the first row is a header, else None (then the fixed order applies)."""
    names = [HEADER_ALIASES.get(c.strip().lower()) for c in cells]
    if "run" not in names:
        return None
    return {name: i for i, name in enumerate(names) if name}


def parse(data: bytes) -> Parsed:
    text = decode(data)
    lines = text.splitlines()
    if not lines:
        raise UnreadableFile("El archivo está vacío.")
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0])))
    except csv.Error as err:
        raise UnreadableFile(f"El archivo no es un CSV válido ({err}).") from None
    if len(records) > MAX_ROWS + 1:
        raise UnreadableFile(f"El archivo tiene más de {MAX_ROWS} filas; divídelo en partes.")
    header = _header_map(records[0]) if records else None
    positions = header or {name: i for i, name in enumerate(COLUMNS)}
    start = 1 if header else 0
    if header is None and records and len(records[0]) < 2:
        raise UnreadableFile("No se reconocen columnas: se esperan RUN; nombre; correo; teléfono; celular.")
    parsed = Parsed()
    seen: set[str] = set()
    for number, cells in enumerate(records[start:], start=start + 1):
        if not any(c.strip() for c in cells):
            continue
        _parse_row(number, cells, positions, seen, parsed)
    return parsed


def _cell(cells: list[str], positions: dict[str, int], name: str) -> str:
    i = positions.get(name)
    return cells[i].strip() if i is not None and i < len(cells) else ""


def _parse_row(number: int, cells: list[str], positions: dict[str, int], seen: set[str], parsed: Parsed) -> None:
    text = ";".join(cells)[:200]
    raw_run = _cell(cells, positions, "run")
    try:
        run = normalize_run(raw_run)
    except InvalidRun as err:
        parsed.rejected.append(Rejected(number, text, str(err)))
        return
    name = _cell(cells, positions, "nombre")
    if not name:
        parsed.rejected.append(Rejected(number, text, "Falta el nombre."))
        return
    email = _cell(cells, positions, "correo") or None
    if email and ("@" not in email or " " in email or len(email) > 254):
        parsed.rejected.append(Rejected(number, text, f"El correo «{email}» no es válido."))
        return
    if run in seen:
        parsed.rejected.append(Rejected(number, text, f"El RUN {run} está repetido en el archivo."))
        return
    if email and f"@{email.lower()}" in seen:
        parsed.rejected.append(Rejected(number, text, f"El correo {email} está repetido en el archivo."))
        return
    seen.update({run, f"@{(email or '').lower()}"} if email else {run})
    parsed.rows.append(Row(number, run, name[:200], email, _cell(cells, positions, "telefono")[:40] or None,
                           _cell(cells, positions, "celular")[:40] or None))

"""Material files: an allow-list checked by extension AND content, generated storage names, safe display names.

The browser never decides a file's type: what we serve is the content type of the allow-list entry that the
file passed, so an upload can never come back as HTML from our origin.
"""

import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # legacy .doc/.xls/.ppt (Compound File Binary)
HEAD_BYTES = 8192


@dataclass(frozen=True)
class Kind:
    kind: str  # pdf | video | image | office | zip | data: how the player shows it
    content_type: str
    detected: frozenset[str]  # filetype extensions accepted as this content ("ole": the OLE header)


_ZIP_OFFICE = frozenset({"zip", "docx", "xlsx", "pptx"})
ALLOWED: dict[str, Kind] = {
    "pdf": Kind("pdf", "application/pdf", frozenset({"pdf"})),
    "mp4": Kind("video", "video/mp4", frozenset({"mp4", "m4v"})),
    "m4v": Kind("video", "video/mp4", frozenset({"mp4", "m4v"})),
    "webm": Kind("video", "video/webm", frozenset({"webm"})),
    "png": Kind("image", "image/png", frozenset({"png"})),
    "jpg": Kind("image", "image/jpeg", frozenset({"jpg"})),
    "jpeg": Kind("image", "image/jpeg", frozenset({"jpg"})),
    "gif": Kind("image", "image/gif", frozenset({"gif"})),
    "webp": Kind("image", "image/webp", frozenset({"webp"})),
    "docx": Kind("office", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP_OFFICE),
    "xlsx": Kind("office", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP_OFFICE),
    "pptx": Kind("office", "application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP_OFFICE),
    "doc": Kind("office", "application/msword", frozenset({"ole", "doc"})),
    "xls": Kind("office", "application/vnd.ms-excel", frozenset({"ole", "xls"})),
    "ppt": Kind("office", "application/vnd.ms-powerpoint", frozenset({"ole", "ppt"})),
    "zip": Kind("zip", "application/zip", _ZIP_OFFICE),
    # Data for exercises (issue 11): plain text with no magic number, always served as a download.
    "csv": Kind("data", "text/csv", frozenset({"text"})),
}
INLINE_KINDS = frozenset({"pdf", "video", "image"})
ACCEPT = ",".join(f".{ext}" for ext in ALLOWED)
ALLOWED_LABEL = "PDF, MP4, WebM, PNG, JPG, GIF, WebP, Word, Excel (XLSX, XLS), CSV, PowerPoint o ZIP"
MARKUP_START = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml")


class UploadRefused(Exception):
    """The file is not accepted; the message says why, in Spanish, for the form."""


def max_bytes() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


def too_big_message() -> str:
    return f"El archivo supera el tamaño máximo de {current_app.config['MAX_UPLOAD_MB']} MB. Redúcelo o divídelo."


def display_name(raw: str | None) -> str:
    """The name people see: last path segment only (either slash), no control characters, at most 200 chars."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def detected_type(head: bytes) -> str | None:
    if head.startswith(OLE_MAGIC):
        return "ole"
    guess = filetype.guess(head)
    if guess:
        return guess.extension
    return "text" if is_plain_text(head) else None


def is_plain_text(head: bytes) -> bool:
    """Text as a spreadsheet saves it (UTF-8, with or without BOM, or Windows-1252): no control bytes but tab
    and line ends, and nothing a browser would take for markup."""
    if not head or any(byte < 32 and byte not in (9, 10, 13) for byte in head):
        return False
    return not head.removeprefix(b"\xef\xbb\xbf").lstrip().lower().startswith(MARKUP_START)


def classify(raw_name: str | None, head: bytes) -> tuple[str, Kind]:
    """Check the name and the first bytes; return (display name, allow-list entry) or raise UploadRefused."""
    name = display_name(raw_name)
    stem, dot, ext = name.rpartition(".")
    if not name or not dot or not stem:
        raise UploadRefused(f"El archivo debe tener un nombre con extensión. Tipos permitidos: {ALLOWED_LABEL}.")
    kind = ALLOWED.get(ext.lower())
    if kind is None:
        raise UploadRefused(f"No se aceptan archivos .{ext[:10]}. Tipos permitidos: {ALLOWED_LABEL}.")
    if detected_type(head) not in kind.detected:
        raise UploadRefused(f"El contenido de «{name}» no corresponde a un archivo .{ext.lower()} válido. "
                            "Revisa que no esté dañado ni tenga la extensión cambiada.")
    return name, kind


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(stored_name: str) -> Path:
    return upload_dir() / stored_name


def save_stream(stream, ext: str) -> tuple[str, int]:
    """Copy `stream` to a new generated name under UPLOAD_DIR (atomic rename); refuse it if it is too big."""
    stored = f"{secrets.token_urlsafe(18)}.{ext.lower()}"
    target = path_of(stored)
    partial = target.with_name(target.name + ".part")
    limit, size = max_bytes(), 0
    try:
        with open(partial, "xb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(too_big_message())
                out.write(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return stored, size


def remove(stored_names) -> None:
    """Delete stored files after the rows are gone (a missing file is not an error)."""
    for stored in stored_names:
        path_of(stored).unlink(missing_ok=True)

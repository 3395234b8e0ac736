"""Spanish wording shared by the PDF, the pages and the bundle: dates, grades, RUNs."""

from datetime import date
from decimal import Decimal

MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre")


def long_date(value: date | None) -> str:
    """1 de diciembre de 2026."""
    if value is None:
        return ""
    return f"{value.day} de {MONTHS[value.month - 1]} de {value.year}"


def grade(value: Decimal | None) -> str:
    """6.2 -> "6,2" (Chilean grades, one decimal)."""
    return "" if value is None else f"{Decimal(value):.1f}".replace(".", ",")


def hours(value) -> str:
    number = Decimal(value or 0)
    return f"{number:.1f}".replace(".", ",").removesuffix(",0")


def run_dotted(run: str | None) -> str:
    """12345678-9 -> 12.345.678-9."""
    if not run or "-" not in run:
        return run or ""
    body, digit = run.split("-", 1)
    if not body.isdigit():  # not a RUN (e.g. a pseudonym code): shown as it is
        return run
    return f"{int(body):,}".replace(",", ".") + f"-{digit}"


def run_masked(run: str | None) -> str:
    """Only the last three digits and the check digit: enough to match a diploma, too little to harvest RUNs."""
    dotted = run_dotted(run)
    if not dotted:
        return ""
    body, digit = dotted.rsplit("-", 1)
    keep = 3
    masked = "".join("•" if ch.isdigit() else ch for ch in body[:-keep]) + body[-keep:]
    return f"{masked}-{digit}"

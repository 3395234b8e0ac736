"""The Chilean grade scale (OTEC-CYCLE.md §2): 1.0 to 7.0, 4.0 at the demand level ("exigencia").

Below the exigencia e: 1 + 3·p/e; at or above it: 4 + 3·(p − e)/(1 − e); p and e as fractions, the grade
rounded half up to one decimal. Decimal throughout, so 4.05 rounds the way a teacher rounds it.
"""

from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")
MIN_GRADE = Decimal("1.0")
MAX_GRADE = Decimal("7.0")
DEFAULT_EXIGENCIA = 60


def to_grade(score_pct: Decimal | float | int, exigencia_pct: Decimal | int = DEFAULT_EXIGENCIA) -> Decimal:
    """Score in percent (0–100) to a grade 1.0–7.0 with the given exigencia (1–99 %)."""
    p = min(max(Decimal(str(score_pct)) / 100, Decimal(0)), Decimal(1))
    e = Decimal(str(exigencia_pct)) / 100
    if not Decimal(0) < e < Decimal(1):
        raise ValueError("la exigencia debe estar entre 1 % y 99 %")
    grade = 1 + 3 * p / e if p < e else 4 + 3 * (p - e) / (1 - e)
    return round_grade(grade)


def round_grade(value: Decimal) -> Decimal:
    return min(max(value, MIN_GRADE), MAX_GRADE).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def weighted_average(parts: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """(grade, weight) pairs to one grade; None when nothing weighs."""
    total = sum((weight for _, weight in parts), Decimal(0))
    if not parts or total <= 0:
        return None
    return round_grade(sum((grade * weight for grade, weight in parts), Decimal(0)) / total)


def score_pct(points: Decimal, max_points: Decimal) -> Decimal:
    """Points over the maximum in percent, two decimals; an evaluation worth nothing scores 0."""
    if not max_points:
        return Decimal("0.00")
    return (Decimal(points) * 100 / Decimal(max_points)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def grade_text(value: Decimal | None) -> str:
    """4,5 as Chileans write it; an en dash for no grade."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",")

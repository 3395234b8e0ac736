"""The Chilean scale: a score in percent becomes a grade 1.0–7.0 with the course's exigencia."""

from decimal import Decimal

import pytest

from app.evaluations.grades import grade_text, to_grade, weighted_average

TABLE_60 = [(0, "1.0"), (10, "1.5"), (30, "2.5"), (50, "3.5"), (59, "4.0"), (60, "4.0"), (70, "4.8"), (75, "5.1"),
            (80, "5.5"), (90, "6.3"), (95, "6.6"), (100, "7.0"), (58, "3.9"), (61, "4.1")]


@pytest.mark.parametrize(("score", "grade"), TABLE_60)
def test_grade_with_the_default_exigencia_of_60_percent(score, grade):
    assert to_grade(score) == Decimal(grade)


@pytest.mark.parametrize(("score", "exigencia", "grade"),
                         [(50, 50, "4.0"), (25, 50, "2.5"), (75, 50, "5.5"), (70, 70, "4.0"), (35, 70, "2.5"),
                          (85, 70, "5.5"), (100, 70, "7.0"), (0, 70, "1.0")])
def test_grade_with_another_exigencia(score, exigencia, grade):
    assert to_grade(score, exigencia) == Decimal(grade)


def test_rounding_is_half_up_to_one_decimal():
    # 59.5 % at 60 %: 1 + 3 * 0.595 / 0.6 = 3.975 -> 4.0 (not banker's rounding down to 3.9 or 4.0 by accident)
    assert to_grade(Decimal("59.5")) == Decimal("4.0")
    # 65 %: 4 + 3 * 0.05 / 0.4 = 4.375 -> 4.4
    assert to_grade(65) == Decimal("4.4")


def test_scores_outside_0_to_100_are_clamped_and_exigencia_must_be_between_1_and_99():
    assert to_grade(120) == Decimal("7.0")
    assert to_grade(-5) == Decimal("1.0")
    with pytest.raises(ValueError):
        to_grade(50, 100)


def test_weighted_average_rounds_to_one_decimal():
    assert weighted_average([(Decimal("7.0"), Decimal(1)), (Decimal("4.0"), Decimal(3))]) == Decimal("4.8")
    assert weighted_average([(Decimal("5.5"), Decimal("2.5"))]) == Decimal("5.5")
    assert weighted_average([]) is None


def test_grades_are_written_with_a_decimal_comma():
    assert grade_text(Decimal("4.5")) == "4,5"
    assert grade_text(None) == "–"

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cl import rut as cl_rut

from app.auth.run import InvalidRun, normalize_run


@pytest.mark.parametrize("spelling", ["11.111.111-1", "111111111", "11111111-1", " 11111111-1 ", "11 111 111-1"])
def test_common_spellings_of_a_run_are_stored_one_way(spelling):
    assert normalize_run(spelling) == "11111111-1"


def test_a_lower_case_k_is_stored_upper_case():
    assert normalize_run("10.000.013-k") == "10000013-K"


@pytest.mark.parametrize("text, message", [
    ("11.111.111-2", "dígito verificador"),
    ("", "Ingresa un RUN"),
    ("hola", "no es un RUN"),
    ("12-", "no es un RUN"),
    ("1-9", "no es un RUN"),
    ("0-0", "no es un RUN"),
])
def test_invalid_runs_are_refused_with_a_spanish_reason(text, message):
    with pytest.raises(InvalidRun, match=message):
        normalize_run(text)


@given(st.integers(min_value=1_000_000, max_value=99_999_999), st.booleans(), st.booleans())
def test_any_valid_run_round_trips_in_any_spelling(number, dotted, lower):
    digit = cl_rut.calc_check_digit(str(number))
    text = cl_rut.format(f"{number}{digit}") if dotted else f"{number}{digit}"
    if lower:
        text = text.lower()
    assert normalize_run(text) == f"{number}-{digit}"


@given(st.integers(min_value=1_000_000, max_value=99_999_999), st.sampled_from("0123456789K"))
def test_a_wrong_check_digit_is_always_refused(number, digit):
    if digit == cl_rut.calc_check_digit(str(number)):
        return
    with pytest.raises(InvalidRun):
        normalize_run(f"{number}-{digit}")


@given(st.text(max_size=30))
def test_random_text_is_either_a_normalized_run_or_refused(text):
    try:
        result = normalize_run(text)
    except InvalidRun:
        return
    body, digit = result.split("-")
    assert body.isdigit() and cl_rut.calc_check_digit(body) == digit

from app.certificates import folio
from app.certificates.text import run_masked


def test_folios_are_unique_and_carry_eighty_random_bits():
    folios = {folio.new_folio() for _ in range(20_000)}
    assert len(folios) == 20_000
    sample = next(iter(folios))
    assert len(sample) == 19 and sample.count("-") == 3
    assert set(sample.replace("-", "")) <= set(folio.ALPHABET) and len(folio.ALPHABET) ** folio.LENGTH == 2 ** 80


def test_a_typed_folio_is_read_forgivingly():
    assert folio.normalize(" k7qm 3xpa-9rtd-w2hf ") == "K7QM-3XPA-9RTD-W2HF"
    assert folio.normalize("K7QM-3XPA-9RTD-W2HO") == "K7QM-3XPA-9RTD-W2H0"  # O typed for zero
    assert folio.normalize("K7QM3XPA9RTDW2HI") == "K7QM-3XPA-9RTD-W2H1"


def test_anything_that_cannot_be_a_folio_is_not_looked_up():
    for typed in ("", "K7QM", "K7QM-3XPA-9RTD-W2HF-AAAA", "'; DROP TABLE certificates; --", "K7QM-3XPA-9RTD-W2H#",
                  "U7QM-3XPA-9RTD-W2HF"):
        assert folio.normalize(typed) is None


def test_the_run_on_the_public_page_shows_only_its_last_digits():
    assert run_masked("12345678-9") == "••.•••.678-9"
    assert run_masked("9876543-K") == "•.•••.543-K"
    assert run_masked("") == ""

"""The SENCE RCE protocol module, read against the manuals (v1.1.2 authoritative, v1.1.6 for additions).

Pure tests: no app, no database.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sence import protocol
from app.sence.protocol import (
    ERRORS,
    FIELD_MAX,
    HELP_LINKS,
    LOGIN_FIELDS,
    LOGOUT_FIELDS,
    describe,
    login_fields,
    logout_fields,
    new_id_sesion_alumno,
    parse_answer,
    parse_fecha_hora,
    parse_glosa,
    redact,
    sence_run,
    validate_course_codes,
    validate_return_url,
    validate_rut_otec,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "sence"
MANUAL_112 = SHARED / "001_7b32d6064ea32b7a.txt"
MANUAL_116 = SHARED / "manual-tecnico-v1.1.6.txt"
needs_manuals = pytest.mark.skipif(
    not (MANUAL_112.exists() and MANUAL_116.exists()), reason="../shared/sence/ not beside the clone"
)

ALL_CODES = [100, *range(200, 213), *range(300, 314)]
RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TOKEN = "8FCF1E2A-1234-4ABC-9DEF-0123456789AB"


@pytest.fixture(autouse=True)
def db():
    """Shadow the shared conftest's database fixture: these tests need no app and no database."""
    yield None


# --- The manuals, parsed -------------------------------------------------------------------------


def _lines_between(path: Path, start: str, end: str) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == start)
    last = next(i for i in range(first + 1, len(lines)) if lines[i].strip() == end)
    return lines[first + 1 : last]


def _annex_112() -> dict[int, str]:
    rows = _lines_between(MANUAL_112, "7 Anexo 2: Tabla Errores", "8 Anexo 3: Ejemplos")
    found = (re.match(r"^\| (\d{3}) \| (.*?) \|$", line.strip()) for line in rows)
    return {int(m[1]): m[2] for m in found if m}


def _annex_116() -> dict[int, str]:
    """v1.1.6 is PDF text: entries start with the code, wrap onto the next lines, with page numbers."""
    table: dict[int, str] = {}
    code = None
    for line in _lines_between(MANUAL_116, "7 Anexo 2: Tabla Errores", "8 Anexo 3: Ejemplos"):
        text = line.strip()
        if not text or re.fullmatch(r"\d{1,2}", text) or text == "Id Descripción":
            continue
        start = re.match(r"^(\d{3})\s+(.*)$", text)
        if start:
            code = int(start[1])
            table[code] = start[2]
        elif code is not None:
            table[code] += " " + text
    return table


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _field_tables(start: str, end: str) -> list[list[tuple[str, str, str]]]:
    """The parameter tables of a section of manual v1.1.2: (name, type, length), split at prose."""
    row = re.compile(r"^\| (\w+)\s*\| (Texto|Entero)\s*\| (\d*)\s*\|")
    tables, current = [], []
    for line in _lines_between(MANUAL_112, start, end):
        text = line.strip()
        if not text:
            continue
        match = row.match(text)
        if match:
            current.append((match[1], match[2], match[3]))
        elif not text.startswith("|") and current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


@needs_manuals
def test_error_table_has_every_code_of_both_manuals_and_nothing_else():
    assert set(ERRORS) == set(_annex_112()) | set(_annex_116())


@needs_manuals
def test_each_entry_quotes_the_latest_manual_that_has_the_code():
    latest = {**_annex_112(), **_annex_116()}
    for code, text in latest.items():
        assert _norm(ERRORS[code].manual) == _norm(text), code


@needs_manuals
def test_v116_dropped_100_and_210_but_we_still_understand_them():
    assert {100, 210}.isdisjoint(_annex_116())
    assert describe("100").title == "Clave incorrecta"
    assert describe("210").who == "participant"


@needs_manuals
def test_login_and_logout_fields_are_the_manuals_in_its_order_with_its_lengths():
    login = _field_tables("3.2 Paso 2: Integración de Inicio de Sesión", "3.3 Paso 3: Integración de Cierre de Sesión")
    logout = _field_tables("3.3 Paso 3: Integración de Cierre de Sesión", "4 ¿Cómo Pruebo?")
    assert tuple(name for name, _, _ in login[0]) == LOGIN_FIELDS
    assert tuple(name for name, _, _ in login[1]) == protocol.LOGIN_SUCCESS_FIELDS
    assert tuple(name for name, _, _ in login[2]) == protocol.LOGIN_ERROR_FIELDS
    assert tuple(name for name, _, _ in logout[0]) == LOGOUT_FIELDS
    assert tuple(name for name, _, _ in logout[1]) == protocol.LOGOUT_SUCCESS_FIELDS
    assert tuple(name for name, _, _ in logout[2]) == protocol.LOGOUT_ERROR_FIELDS
    for name, kind, length in [row for table in login + logout for row in table]:
        if length:
            assert FIELD_MAX[name] == int(length), name
        else:
            assert kind == "Entero" and name in protocol.ENTERO_FIELDS


@needs_manuals
def test_help_links_come_from_the_manuals():
    manuals = MANUAL_112.read_text(encoding="utf-8") + MANUAL_116.read_text(encoding="utf-8")
    for _, url in HELP_LINKS:
        assert url in manuals


@needs_manuals
def test_line_6_is_fpt_in_v116():
    text = _norm(MANUAL_116.read_text(encoding="utf-8"))
    assert "6 = FPT" in text and "excepto cursos FPT" in text
    assert protocol.LINEAS[6] == "FPT"


# --- Error table ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_tells_the_participant_and_the_admin_something(code):
    entry = ERRORS[code]
    assert entry.code == code
    assert entry.title and len(entry.participant_message) > 30 and len(entry.admin_message) > 30
    assert entry.who in {"participant", "otec", "sence"}
    assert "{" not in entry.participant_message


@pytest.mark.parametrize("code", [c for c in ALL_CODES if ERRORS[c].who == "otec"])
def test_configuration_errors_send_the_participant_to_the_otec_with_the_code(code):
    message = ERRORS[code].participant_message
    assert "OTEC" in message and str(code) in message


@pytest.mark.parametrize("code", [100, 312])
def test_password_problems_point_to_claveunica(code):
    assert "https://claveunica.gob.cl/" in ERRORS[code].participant_message


def test_help_links_cover_claveunica_and_clave_sence():
    urls = [url for _, url in HELP_LINKS]
    assert "https://claveunica.gob.cl/" in urls
    assert "https://cus.sence.cl/Account/RecuperarClave" in urls


@pytest.mark.parametrize("code", ["999", "abc", "", None, "211;204", "9" * 5000, "\x00\u202e"])
def test_unknown_codes_get_a_clear_generic_message(code):
    entry = describe(code)
    assert entry.title == "Error no documentado de SENCE"
    assert "OTEC" in entry.participant_message
    assert entry.code not in ERRORS


def test_known_codes_are_found_as_text_or_number():
    assert describe(" 204 ") is ERRORS[204]
    assert describe(204) is ERRORS[204]
    assert describe("999").code == 999


# --- GlosaError ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [("211;204", ["211", "204"]), (" 211 ; 204 ;", ["211", "204"]), ("100", ["100"]), ("", []), (None, []), ("  ", [])],
)
def test_glosa_error_is_read_as_a_list_of_codes(text, codes):
    assert parse_glosa(text) == codes


# --- RUN / RUT -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("12.345.678-5", "12345678-5"),
        ("123456785", "12345678-5"),
        (" 10.000.013-k ", "10000013-K"),
        ("9999999-3", "9999999-3"),
    ],
)
def test_runs_are_written_as_sence_wants_them(given, expected):
    assert sence_run(given) == expected


@pytest.mark.parametrize("bad", ["12345678-9", "", "abc", "1-9", "12345678901-1", None])
def test_invalid_runs_raise_value_error(bad):
    with pytest.raises(ValueError):
        sence_run(bad)


def test_rut_otec_with_wrong_check_digit_is_209():
    assert validate_rut_otec("76123456-0") == []
    assert [code for _, code, _ in validate_rut_otec("76123456-1")] == [209]


# --- Building the POSTs --------------------------------------------------------------------------


def _login_kwargs(**changes):
    kwargs = {
        "rut_otec": "76.123.456-0",
        "token": TOKEN,
        "cod_sence": "1234567890",
        "codigo_curso": "1234567",
        "linea": 3,
        "run_alumno": "10.000.013-k",
        "id_sesion_alumno": "abc",
        "url_retoma": "https://lms.example/s/ok",
        "url_error": "https://lms.example/s/err",
    }
    return {**kwargs, **changes}


def test_login_fields_are_the_manuals_fields_as_strings_normalised():
    fields = login_fields(**_login_kwargs())
    assert tuple(fields) == LOGIN_FIELDS
    assert fields["RutOtec"] == "76123456-0" and fields["RunAlumno"] == "10000013-K"
    assert fields["LineaCapacitacion"] == "3"
    assert all(isinstance(value, str) for value in fields.values())


def test_line_1_sends_a_blank_cod_sence():
    assert login_fields(**_login_kwargs(cod_sence=None, linea=1))["CodSence"] == ""


def test_logout_fields_add_id_sesion_sence():
    fields = logout_fields(**_login_kwargs(), id_sesion_sence="98765")
    assert tuple(fields) == LOGOUT_FIELDS and fields["IdSesionSence"] == "98765"


def test_redact_drops_the_token_whatever_its_case():
    fields = {**login_fields(**_login_kwargs()), "token": "x", "TOKEN": "y"}
    assert not {"Token", "token", "TOKEN"} & set(redact(fields))
    assert redact(fields)["RunAlumno"] == "10000013-K"


def test_id_sesion_alumno_is_unguessable_and_url_safe():
    ids = {new_id_sesion_alumno() for _ in range(50)}
    assert len(ids) == 50
    for value in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", value) and len(value) <= FIELD_MAX["IdSesionAlumno"]


# --- Course codes and URLs -----------------------------------------------------------------------


def _codes(*args):
    return [code for _, code, _ in validate_course_codes(*args)]


@pytest.mark.parametrize(
    ("linea", "cod_sence", "codigo_curso", "environment", "codes"),
    [
        (3, "1234567890", "1234567", "production", []),
        (3, "123456789", "1234567", "production", [204]),
        (3, "", "1234567", "production", [204]),
        (3, "1234567890", "123456", "production", [205]),
        (3, "1234567890", "x" * 51, "production", [205]),
        (1, "", "RLAB-19-02-08-0071-1", "production", []),
        (1, "1234567890", "RLAB-19-02-08-0071-1", "production", [204]),
        (6, "", "F1", "production", []),
        (6, "1234567890", "F1", "production", []),
        (6, "", "", "production", [205]),
        (2, "1234567890", "1234567", "production", [206]),
        ("\u0663", "1234567890", "1234567", "production", [206]),  # an Arabic-Indic 3 is not a 3
        (3, "-1", "-1", "test", []),
        (3, "-1", "-1", "simulator", []),
        (1, "", "-1", "test", []),
        (3, "-1", "-1", "production", [204, 205]),
        (1, "", "-1", "production", [205]),
    ],
)
def test_course_codes_per_line_and_environment(linea, cod_sence, codigo_curso, environment, codes):
    assert _codes(linea, cod_sence, codigo_curso, environment) == codes


def test_course_code_messages_are_spanish_and_name_the_field():
    [(field, code, message)] = validate_course_codes(3, "1", "1234567", "production")
    assert (field, code) == ("CodSence", 204) and "10 caracteres" in message


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://lms.example.cl/sence/ok", True),
        ("http://localhost:5000/sence/ok", True),
        ("https://lms.example.cl/" + "a" * 77, True),  # exactly 100
        ("https://lms.example.cl/" + "a" * 78, False),  # 101
        ("", False),
        ("/sence/ok", False),
        ("javascript:alert(1)", False),
        ("https://lms.example.cl/a b", False),
    ],
)
def test_return_urls_must_be_absolute_http_and_at_most_100_chars(url, ok):
    assert (validate_return_url(url) is None) is ok


def test_return_url_codes_follow_the_manual():
    assert protocol.check_return_url("", "UrlError")[0] == 201
    assert protocol.check_return_url("nope", "UrlRetoma")[0] == 202
    assert protocol.check_return_url("nope", "UrlError")[0] == 203


# --- FechaHora -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fecha_hora", "zona", "utc"),
    [
        ("2024-01-15 10:00:00", "", datetime(2024, 1, 15, 13, 0, tzinfo=UTC)),  # Chilean summer, UTC-3
        ("2024-07-15 10:00:00", "", datetime(2024, 7, 15, 14, 0, tzinfo=UTC)),  # Chilean winter, UTC-4
        ("2024-07-15 10:00:00", "America/Santiago", datetime(2024, 7, 15, 14, 0, tzinfo=UTC)),
        ("2024-01-15 10:00:00", "(UTC-04:00) Santiago", datetime(2024, 1, 15, 13, 0, tzinfo=UTC)),
        ("2024-07-15 10:00:00", "UTC", datetime(2024, 7, 15, 10, 0, tzinfo=UTC)),
        ("2024-07-15 10:00:00", "GMT-3", datetime(2024, 7, 15, 13, 0, tzinfo=UTC)),
        ("2024-07-15 10:00:00", "-05:00", datetime(2024, 7, 15, 15, 0, tzinfo=UTC)),
        ("2024-07-15 10:00:00", "Europe/Madrid", datetime(2024, 7, 15, 8, 0, tzinfo=UTC)),
        ("2024-07-15 10:00:00", "hora oficial", datetime(2024, 7, 15, 14, 0, tzinfo=UTC)),
        ("15-07-2024 10:00:00", "", datetime(2024, 7, 15, 14, 0, tzinfo=UTC)),
        ("15/07/2024 10:00:00", "", datetime(2024, 7, 15, 14, 0, tzinfo=UTC)),
        ("2024-07-15T10:00:00", "", datetime(2024, 7, 15, 14, 0, tzinfo=UTC)),
    ],
)
def test_fecha_hora_is_chilean_local_time_unless_the_zone_says_otherwise(fecha_hora, zona, utc):
    assert parse_fecha_hora(fecha_hora, zona, RECEIVED) == (utc, False)


@pytest.mark.parametrize("junk", ["", None, "ayer", "2024-13-01 10:00:00", "2024-02-30 10:00:00", "2024-07-15"])
def test_unreadable_fecha_hora_is_flagged_and_replaced_by_the_reception_time(junk):
    assert parse_fecha_hora(junk, "UTC", RECEIVED) == (RECEIVED, True)


def test_naive_reception_time_is_taken_as_utc():
    instant, flagged = parse_fecha_hora("x", None, datetime(2024, 5, 1, 12, 0))
    assert flagged and instant == RECEIVED and instant.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_fecha_hora_parsing_never_raises(fecha_hora, zona):
    instant, flagged = parse_fecha_hora(fecha_hora, zona, RECEIVED)
    assert instant.utcoffset() == timedelta(0)
    assert isinstance(flagged, bool)


# --- Answers -------------------------------------------------------------------------------------


def test_success_answer_is_read_field_by_field():
    answer = parse_answer(
        {
            "CodSence": "1234567890",
            "CodigoCurso": "1234567",
            "IdSesionAlumno": "abc",
            "IdSesionSence": "12345678901234567890",
            "RunAlumno": "10000013-K",
            "FechaHora": "2024-07-15 10:00:00",
            "ZonaHoraria": "America/Santiago",
            "LineaCapacitacion": "3",
        }
    )
    assert not answer.is_error and answer.error_codes == []
    assert answer.id_sesion_sence == "12345678901234567890" and answer.linea == 3


def test_error_is_decided_by_glosa_error_even_when_id_sesion_sence_is_present():
    answer = parse_answer({"IdSesionAlumno": "abc", "IdSesionSence": "777", "GlosaError": "211;204"})
    assert answer.is_error
    assert answer.error_codes == ["211", "204"]
    assert [e.code for e in answer.errors] == [211, 204]


def test_answer_fields_are_trimmed_and_cut_to_the_manuals_lengths():
    answer = parse_answer({"RunAlumno": "  12345678-5  ", "CodSence": "1" * 40, "IdSesionAlumno": "a\x00b"})
    assert answer.run_alumno == "12345678-5"
    assert answer.cod_sence == "1" * 10
    assert answer.id_sesion_alumno == "ab"


def test_raw_keeps_every_field_but_the_token_bounded():
    form = {"Token": TOKEN, "token": TOKEN, "GlosaError": "100", "Extra": "x" * 10_000}
    form.update({f"F{i}": str(i) for i in range(100)})
    raw = parse_answer(form).raw
    assert TOKEN not in str(raw) and "Token" not in raw and "token" not in raw
    assert len(raw) <= protocol.RAW_MAX_FIELDS
    assert raw["GlosaError"] == "100" and len(raw["Extra"]) == protocol.RAW_MAX_VALUE


def test_a_huge_value_is_read_without_trouble():
    answer = parse_answer({"GlosaError": "2" * 1_000_000, "FechaHora": "9" * 1_000_000})
    assert answer.is_error and len(answer.glosa_error) == FIELD_MAX["GlosaError"]


_keys = st.one_of(st.sampled_from([*protocol.ANSWER_FIELDS, "Token", "token", " TOKEN "]), st.text(max_size=80))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, st.text(max_size=400), max_size=60))
def test_parse_answer_never_raises_and_never_keeps_the_token(form):
    answer = parse_answer(form)
    assert all(key.strip().lower() != "token" for key in answer.raw)
    assert len(answer.raw) <= protocol.RAW_MAX_FIELDS
    for name, attr in protocol._ANSWER_ATTRS.items():
        value = getattr(answer, attr)
        assert len(value) <= FIELD_MAX[name] and "\x00" not in value
    assert answer.is_error == bool(answer.error_codes)
    for code in answer.error_codes:
        assert describe(code).participant_message

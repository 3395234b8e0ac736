"""The RCE simulator, driven like a browser would: POST a request, read the page, follow the answer form.

It builds its own app (no database): the shared conftest's fixtures are shadowed below.
"""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sence import protocol
from app.simulator import create_claveunica_app, create_simulator_app

TOKEN = "8fcf1e2a-1234-4abc-9def-0123456789ab"
OTHER_TOKEN = "11111111-2222-4333-8444-555555555555"
REVOKED = "22222222-2222-4333-8444-555555555555"
EXPIRED = "33333333-2222-4333-8444-555555555555"
RUT_OTEC = "76123456-0"
RUN = "12345678-5"
RETOMA = "http://localhost:5000/sence/retorno"
ERROR = "http://localhost:5000/sence/error"
CLAVEUNICA = "http://127.0.0.1:5999"
LOGIN = "/rce/Registro/IniciarSesion"
LOGOUT = "/rce/Registro/CerrarSesion"
START = datetime(2024, 5, 1, 15, 0, tzinfo=UTC)  # 11:00 in Santiago (winter, UTC-4)

REGISTRY = {
    "otecs": {
        RUT_OTEC: {
            "tokens": {TOKEN: {"expires": "2030-01-01"}, REVOKED: {"revoked": True}, EXPIRED: {"expires": "2024-05-01"}}
        },
        "11111111-1": {"tokens": {OTHER_TOKEN: {"expires": None}}},
    },
    "courses": {
        "CURSO-CON-NOMINA": {"runs": ["11.111.111-1"]},
        "CURSO-COMPLETO": {"runs": [RUN], "cod_sence": "1234567890", "linea": 3, "rut_otec": RUT_OTEC,
                           "start": "2024-04-01", "end": "2024-06-30"},
        "CURSO-PRESENCIAL": {"elearning": False},
        "CURSO-TERMINADO": {"status": "Terminado"},
        "CURSO-ANULADO": {"status": "anulado"},
        "CURSO-FUTURO": {"start": "2024-06-01"},
        "CURSO-PASADO": {"end": "2024-04-30"},
    },
}


@pytest.fixture(autouse=True)
def db():
    """Shadow the shared conftest's database fixture: the simulator has no database."""
    yield None


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_client(clock):
    def make(**config):
        app = create_simulator_app({"TESTING": True, "SIMULATOR_NOW": clock, "SECRET_KEY": "k", **config})
        return app.test_client()

    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def strict(make_client):
    return make_client(SIMULATOR_REGISTRY=REGISTRY)


# --- Helpers -------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """Every form on a page: its attributes and its named inputs/selects (entities unescaped)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "fields": {}})
        elif tag in ("input", "select") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value", ""))


def forms(response):
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def answer(response):
    """(action, fields) of the auto-submitting answer form; fails if the page has none."""
    [form] = [f for f in forms(response) if "data-autosubmit" in f["attrs"]]
    return form["attrs"]["action"], form["fields"]


def has_answer(response) -> bool:
    return any("data-autosubmit" in f["attrs"] for f in forms(response))


def request_fields(**changes):
    fields = {
        "RutOtec": RUT_OTEC,
        "Token": TOKEN,
        "CodSence": "1234567890",
        "CodigoCurso": "1234567",
        "LineaCapacitacion": "3",
        "RunAlumno": RUN,
        "IdSesionAlumno": "attempt-abc",
        "UrlRetoma": RETOMA,
        "UrlError": ERROR,
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def start(client, path=LOGIN, **changes):
    return client.post(path, data=request_fields(**changes))


def glosa(response):
    action, fields = answer(response)
    assert action == ERROR
    return fields["GlosaError"]


class Rce:
    """SENCE's side and the ClaveÚnica look-alike, each its own app, driven like a browser across origins."""

    def __init__(self, sence, claveunica):
        self.sence, self.claveunica = sence, claveunica

    def request(self, path=LOGIN, **changes):
        """POST to SENCE and follow its redirect to ClaveÚnica: the ClaveÚnica page (or SENCE's answer)."""
        response = start(self.sence, path, **changes)
        if response.status_code != 303:
            return response
        location = urlsplit(response.headers["Location"])
        assert f"{location.scheme}://{location.netloc}" == CLAVEUNICA  # another origin
        return self.claveunica.get(f"{location.path}?{location.query}")

    def sign_in(self, page, run=RUN, password="1234", **extra):  # noqa: S107 - the simulator's password
        """Type RUN and ClaveÚnica; on success follow ClaveÚnica's redirect back to SENCE."""
        data = {"solicitud": forms(page)[0]["fields"]["solicitud"], "run": run, "password": password, **extra}
        response = self.claveunica.post("/openid/authorize", data=data)
        return self.back(response) if response.status_code == 303 else response

    def press(self, page, accion):
        data = {"solicitud": forms(page)[0]["fields"]["solicitud"], "accion": accion}
        response = self.claveunica.post("/openid/authorize", data=data)
        return self.back(response) if response.status_code == 303 else response

    def back(self, redirect):
        location = urlsplit(redirect.headers["Location"])
        return self.sence.get(f"{location.path}?{location.query}")

    def login(self, **changes):
        """A whole successful login: the IdSesionSence SENCE returned."""
        action, fields = answer(self.sign_in(self.request(**changes)))
        assert action == RETOMA
        return fields["IdSesionSence"]

    def logout(self, id_sesion_sence, **changes):
        return self.sign_in(self.request(LOGOUT, IdSesionSence=id_sesion_sence, **changes))


@pytest.fixture
def make_rce(make_client, clock):
    def make(**config):
        sence = make_client(SIMULATOR_CLAVEUNICA_URL=CLAVEUNICA, **config)
        cu_app = create_claveunica_app({"TESTING": True, "SIMULATOR_NOW": clock, "SECRET_KEY": "k"})
        return Rce(sence, cu_app.test_client())

    return make


@pytest.fixture
def rce(make_rce):
    return make_rce(SIMULATOR_REGISTRY=REGISTRY)


# --- Validation errors answer UrlError with the manual's code, before ClaveÚnica ------------------


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"RunAlumno": None}, "200"),
        ({"RunAlumno": None, "RutAlumno": RUN}, "200"),  # misspelled, the manual's own example
        ({"Token": "   "}, "200"),
        ({"IdSesionAlumno": ""}, "200"),
        ({"IdSesionAlumno": "x" * 150}, "200"),
        ({"UrlRetoma": ""}, "201"),
        ({"UrlRetoma": "retorno.asp"}, "202"),
        ({"UrlRetoma": "https://lms.example.cl/" + "a" * 78}, "202"),  # 101 characters
        ({"CodSence": "123456789"}, "204"),
        ({"LineaCapacitacion": "1"}, "204"),  # line 1 requires a blank CodSence
        ({"CodSence": "-1"}, "204"),  # -1 only under /rcetest
        ({"CodigoCurso": "123456"}, "205"),
        ({"CodigoCurso": "-1"}, "205"),
        ({"LineaCapacitacion": "2"}, "206"),
        ({"RunAlumno": "12345678-9"}, "207"),
        ({"RunAlumno": "12.345.678-5"}, "207"),
        ({"RutOtec": "76123456-1"}, "209"),
        ({"Token": "12345678-1234-1234-1234-123456789"}, "303"),  # the manual's example token: 33 chars
    ],
)
def test_invalid_requests_are_answered_at_url_error_with_the_manuals_code(client, changes, code):
    response = start(client, **changes)
    assert response.status_code == 200
    assert glosa(response) == code
    assert answer(response)[1]["IdSesionAlumno"] == request_fields(**changes).get("IdSesionAlumno", "")[:149]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"CodigoCurso": "CURSO-CON-NOMINA"}, "208"),
        ({"CodigoCurso": "CURSO-COMPLETO", "RunAlumno": "11111111-1"}, "208"),
        ({"Token": OTHER_TOKEN}, "211"),
        ({"Token": "44444444-2222-4333-8444-555555555555"}, "211"),  # unknown token, listed OTEC
        ({"Token": REVOKED}, "212"),
        ({"Token": EXPIRED}, "212"),
        ({"CodigoCurso": "CURSO-COMPLETO", "LineaCapacitacion": "6"}, "301"),
        ({"CodigoCurso": "CURSO-COMPLETO", "CodSence": "1234567899"}, "306"),
        ({"CodigoCurso": "CURSO-PRESENCIAL"}, "307"),
        ({"CodigoCurso": "CURSO-COMPLETO", "RutOtec": "11111111-1", "Token": OTHER_TOKEN}, "308"),
        ({"CodigoCurso": "CURSO-FUTURO"}, "309"),
        ({"CodigoCurso": "CURSO-PASADO"}, "309"),
        ({"CodigoCurso": "CURSO-TERMINADO"}, "310"),
        ({"CodigoCurso": "CURSO-ANULADO"}, "310"),
    ],
)
def test_registry_errors(strict, changes, code):
    assert glosa(start(strict, **changes)) == code


def test_registry_checks_are_skipped_with_placeholders_in_test(strict):
    response = start(strict, path="/rcetest/Registro/IniciarSesion", CodSence="-1", CodigoCurso="-1")
    assert response.status_code == 303


def test_registry_allows_what_it_lists(strict):
    assert start(strict, CodigoCurso="CURSO-CON-NOMINA", RunAlumno="11111111-1").status_code == 303
    assert start(strict, CodigoCurso="curso-completo").status_code == 303


def test_registry_is_strict_only_for_what_it_lists(strict):
    page = start(strict, RutOtec="77777777-7", Token="55555555-2222-4333-8444-555555555555")
    assert page.status_code == 303


def test_registry_can_be_a_json_file(make_client, tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(REGISTRY), encoding="utf-8")
    assert glosa(start(make_client(SIMULATOR_REGISTRY=str(path)), Token=REVOKED)) == "212"


def test_without_registry_any_well_formed_token_and_valid_run_pass(client):
    response = start(client, Token=OTHER_TOKEN, RunAlumno="11111111-1", CodigoCurso="CURSO-CON-NOMINA")
    assert response.status_code == 303


def test_test_placeholders_are_accepted_only_under_rcetest(client):
    assert start(client, path="/rcetest/Registro/IniciarSesion", CodSence="-1", CodigoCurso="-1").status_code == 303
    assert glosa(start(client, CodSence="-1", CodigoCurso="-1")) == "204"


@pytest.mark.parametrize(("url_error", "code"), [("", "201"), ("fracaso.asp", "203"), ("javascript:alert(1)", "203")])
def test_an_unusable_url_error_gets_a_page_since_nothing_can_be_posted(client, url_error, code):
    response = start(client, UrlError=url_error)
    assert response.status_code == 400
    assert f"Error {code}" in response.get_data(as_text=True)
    assert not has_answer(response)


def test_several_codes_can_be_joined_when_configured(make_client):
    sim = make_client(SIMULATOR_JOIN_CODES=True)
    assert glosa(start(sim, RutOtec="76123456-1", CodSence="1")) == "209;204"


def test_by_default_only_the_first_code_is_sent(client):
    assert glosa(start(client, RutOtec="76123456-1", CodSence="1")) == "209"


# --- Paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/rce/Registro/CierreSesion", "/rce/Registro/Cerrar", "/sence/Registro/CerrarSesion"])
def test_a_logout_to_a_wrong_url_answers_313(client, path):
    assert glosa(start(client, path=path, IdSesionSence="12345678901234567890")) == "313"


def test_a_login_to_an_unknown_base_is_not_found(client):
    response = start(client, path="/sence/Registro/IniciarSesion")
    assert response.status_code == 404 and not has_answer(response)


# --- The v1.1.6 trip: SENCE → ClaveÚnica (another origin) → SENCE → UrlRetoma/UrlError ----------


def test_a_valid_request_is_sent_on_to_claveunica_on_another_origin(rce):
    response = start(rce.sence)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(CLAVEUNICA + "/openid/authorize?solicitud=")
    page = rce.request()
    html = page.get_data(as_text=True)
    assert "Ingresa con tu ClaveÚnica" in html and ">RUN</label>" in html and ">ClaveÚnica</label>" in html
    assert forms(page)[0]["fields"]["run"] == ""  # nothing pre-filled: ClaveÚnica does not know the RUN
    assert "https://claveunica.gob.cl/" in html
    assert not has_answer(page)


def test_success_posts_the_manuals_fields_to_url_retoma(rce):
    action, fields = answer(rce.sign_in(rce.request()))
    assert action == RETOMA
    assert tuple(fields) == protocol.LOGIN_SUCCESS_FIELDS
    assert re.fullmatch(r"\d{20}", fields["IdSesionSence"])
    assert fields["FechaHora"] == "2024-05-01 11:00:00"
    assert fields["ZonaHoraria"] == "America/Santiago"
    assert (fields["CodSence"], fields["CodigoCurso"], fields["RunAlumno"]) == ("1234567890", "1234567", RUN)
    assert (fields["IdSesionAlumno"], fields["LineaCapacitacion"]) == ("attempt-abc", "3")
    parsed = protocol.parse_answer(fields)
    assert not parsed.is_error
    assert protocol.parse_fecha_hora(parsed.fecha_hora, parsed.zona_horaria, START) == (START, False)


def test_run_may_be_typed_with_dots(rce):
    assert answer(rce.sign_in(rce.request(), run="12.345.678-5"))[0] == RETOMA


def test_a_wrong_claveunica_keeps_the_participant_there_as_often_as_they_like(rce, clock):
    page = rce.request()
    for minutes in (1, 10, 60, 240):
        clock.now = START + timedelta(minutes=minutes)
        page = rce.sign_in(page, password="0000")
        assert "RUN o ClaveÚnica incorrectos" in page.get_data(as_text=True)
        assert not has_answer(page)
    assert answer(rce.sign_in(page))[0] == RETOMA  # hours later, still a genuine success


def test_no_100_and_no_210_in_v116(rce, clock):
    page = rce.request()
    for _ in range(5):
        page = rce.sign_in(page, password="0000")
    clock.now = START + timedelta(minutes=30)
    action, fields = answer(rce.sign_in(page))
    assert action == RETOMA and "GlosaError" not in fields


def test_a_different_run_answers_311(rce):
    assert glosa(rce.sign_in(rce.request(), run="11.111.111-1")) == "311"


def test_an_invalid_run_typed_is_asked_again(rce):
    page = rce.sign_in(rce.request(), run="1-1")
    assert "Ingresa un RUN válido" in page.get_data(as_text=True) and not has_answer(page)


def test_the_training_button_answers_312(rce):
    assert glosa(rce.press(rce.request(), "fallar")) == "312"


def test_abandoning_sends_nothing(rce):
    page = rce.press(rce.request(), "abandonar")
    assert "No se envió nada" in page.get_data(as_text=True)
    assert not has_answer(page)


def test_an_answer_is_sent_once(rce):
    page = rce.request()
    redirect = rce.claveunica.post("/openid/authorize", data={
        "solicitud": forms(page)[0]["fields"]["solicitud"], "run": RUN, "password": "1234"})
    assert answer(rce.back(redirect))[0] == RETOMA
    again = rce.back(redirect)
    assert again.status_code == 409 and not has_answer(again)


def test_a_forged_claveunica_result_is_refused(rce):
    page = rce.request()
    forged = rce.sence.get("/rce/Registro/RetornoClaveUnica?respuesta=eyJ0eCI6IngiLCJyZXN1bHRhZG8iOiJvayJ9")
    assert forged.status_code == 400 and not has_answer(forged)
    tampered = rce.claveunica.get("/openid/authorize?solicitud=" + forms(page)[0]["fields"]["solicitud"][:-3])
    assert tampered.status_code == 400


# --- Late answers ------------------------------------------------------------------------------


def test_a_late_answer_is_held_until_its_minutes_have_passed(rce, clock):
    page = rce.request()
    held = rce.sign_in(page, demora="45")
    assert "Respuesta tardía" in held.get_data(as_text=True) and not has_answer(held)
    assert 'http-equiv="refresh"' in held.get_data(as_text=True)
    location = held.request.full_path
    clock.now = START + timedelta(minutes=44)
    assert not has_answer(rce.sence.get(location))
    clock.now = START + timedelta(minutes=45)
    action, fields = answer(rce.sence.get(location))
    assert action == RETOMA
    assert fields["FechaHora"] == "2024-05-01 11:45:00"  # SENCE registers the session when it answers


def test_late_answers_can_be_the_default(make_rce, clock):
    rce = make_rce(SIMULATOR_ANSWER_AFTER_MINUTES=20)
    held = rce.sign_in(rce.request())
    assert not has_answer(held)
    clock.now = START + timedelta(minutes=20)
    assert answer(rce.sence.get(held.request.full_path))[0] == RETOMA


# --- Logout: bound to a session SENCE opened --------------------------------------------------


def test_logout_goes_through_claveunica_and_carries_no_id_sesion_sence(rce):
    id_sesion_sence = rce.login()
    page = rce.request(LOGOUT, IdSesionSence=id_sesion_sence)
    assert "el cierre de tu sesión" in page.get_data(as_text=True)
    action, fields = answer(rce.sign_in(page))
    assert action == RETOMA
    assert tuple(fields) == protocol.LOGOUT_SUCCESS_FIELDS


def test_logout_requires_id_sesion_sence(rce):
    assert glosa(rce.request(LOGOUT)) == "200"


@pytest.mark.parametrize(
    "changes",
    [
        {"IdSesionSence": "99999999999999999999"},
        {"RunAlumno": "11111111-1"},
        {"CodSence": "1234567891"},
        {"CodigoCurso": "7654321"},
        {"LineaCapacitacion": "6"},
        {"IdSesionAlumno": "another-attempt"},
        {"RutOtec": "77777777-7", "Token": "55555555-2222-4333-8444-555555555555"},
    ],
)
def test_a_logout_that_does_not_match_its_login_answers_301(rce, changes):
    id_sesion_sence = rce.login()
    changes = {"IdSesionSence": id_sesion_sence, **changes}
    run = changes.get("RunAlumno", RUN)
    assert glosa(rce.sign_in(rce.request(LOGOUT, **changes), run=run)) == "301"


def test_a_logout_in_the_other_environment_answers_301(rce):
    id_sesion_sence = rce.login()
    page = rce.request("/rcetest/Registro/CerrarSesion", IdSesionSence=id_sesion_sence)
    assert glosa(rce.sign_in(page)) == "301"


def test_a_session_closes_once(rce):
    id_sesion_sence = rce.login()
    assert answer(rce.logout(id_sesion_sence))[0] == RETOMA
    assert glosa(rce.logout(id_sesion_sence)) == "301"


def test_a_failed_close_leaves_the_session_open_for_a_retry(rce):
    id_sesion_sence = rce.login()
    assert glosa(rce.sign_in(rce.request(LOGOUT, IdSesionSence=id_sesion_sence), run="11111111-1")) == "311"
    assert answer(rce.logout(id_sesion_sence))[0] == RETOMA


def test_another_valid_token_of_the_same_otec_may_close(make_rce):
    second = "66666666-2222-4333-8444-555555555555"
    registry = {"otecs": {RUT_OTEC: {"tokens": {TOKEN: {}, second: {}}}}}
    rce = make_rce(SIMULATOR_REGISTRY=registry)
    assert answer(rce.logout(rce.login(), Token=second))[0] == RETOMA


def test_logout_errors_follow_the_manual(rce):
    response = rce.sign_in(rce.request(LOGOUT, IdSesionSence="1"), run="11111111-1")
    assert tuple(answer(response)[1]) == protocol.LOGOUT_ERROR_FIELDS
    assert glosa(response) == "311"


def test_login_errors_carry_an_id_sesion_sence_like_the_manual_says(client):
    _, fields = answer(start(client, CodSence="1"))
    assert tuple(fields) == protocol.LOGIN_ERROR_FIELDS and fields["IdSesionSence"]


# --- Manual v1.1.2, kept as an explicit option --------------------------------------------------


@pytest.fixture
def old(make_client):
    return make_client(SIMULATOR_MANUAL="1.1.2")


def state_of(page):
    return forms(page)[0]["fields"]["estado"]


def old_sign_in(client, page, run=RUN, clave="1234", base="rce"):
    return client.post(f"/{base}/Registro/Autenticar", data={"estado": state_of(page), "RUN": run, "Clave": clave})


def test_v112_shows_senses_own_login_page_without_a_prefilled_run(old):
    page = start(old)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Simulador SENCE — Registro de Conexiones E-learning" in html
    assert ">RUN</label>" in html and ">Clave</label>" in html
    assert forms(page)[0]["fields"]["RUN"] == ""
    assert forms(page)[0]["attrs"]["action"] == "/rce/Registro/Autenticar"


def test_v112_success_and_logout(old):
    action, fields = answer(old_sign_in(old, start(old)))
    assert action == RETOMA
    page = start(old, path=LOGOUT, IdSesionSence=fields["IdSesionSence"])
    assert answer(old_sign_in(old, page))[0] == RETOMA
    page = start(old, path=LOGOUT, IdSesionSence=fields["IdSesionSence"])
    assert glosa(old_sign_in(old, page)) == "301"


def test_v112_the_third_wrong_password_answers_100(old):
    page = start(old)
    for left in (2, 1):
        page = old_sign_in(old, page, clave="0000")
        assert "RUN o clave incorrectos" in page.get_data(as_text=True)
        assert f"Te quedan {left}" in page.get_data(as_text=True)
    assert glosa(old_sign_in(old, page, clave="0000")) == "100"


def test_v112_more_than_three_minutes_answers_210(old, clock):
    page = start(old)
    clock.now = START + timedelta(seconds=181)
    assert glosa(old_sign_in(old, page)) == "210"


def test_v112_just_under_three_minutes_still_works(old, clock):
    page = start(old)
    clock.now = START + timedelta(seconds=179)
    assert answer(old_sign_in(old, page))[0] == RETOMA


def test_v112_wrong_passwords_do_not_restart_the_three_minutes(old, clock):
    page = start(old)
    clock.now = START + timedelta(seconds=100)
    page = old_sign_in(old, page, clave="0000")
    clock.now = START + timedelta(seconds=200)
    assert glosa(old_sign_in(old, page)) == "210"


def test_v112_the_browsers_timer_expires_the_page(old, clock):
    page = start(old)
    expire = [f for f in forms(page) if "data-expire-after" in f["attrs"]][0]
    assert expire["attrs"]["data-expire-after"] == "180"
    clock.now = START + timedelta(seconds=181)
    assert glosa(old.post("/rce/Registro/Autenticar", data=expire["fields"])) == "210"


def test_v112_a_tampered_state_is_refused(old):
    data = {"estado": state_of(start(old))[:-4] + "AAAA", "RUN": RUN, "Clave": "1234"}
    response = old.post("/rce/Registro/Autenticar", data=data)
    assert response.status_code == 400
    assert "no es válida" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", sorted(protocol.ERRORS))
def test_v112_respond_with_error_posts_the_chosen_code(old, code):
    page = start(old)
    [training] = [f for f in forms(page) if "codigo" in f["fields"]]
    options = re.findall(r'<option value="(\d+)"', page.get_data(as_text=True))
    assert [int(o) for o in options] == sorted(protocol.ERRORS)
    data = {"estado": training["fields"]["estado"], "accion": "error", "codigo": str(code)}
    assert glosa(old.post("/rce/Registro/Autenticar", data=data)) == str(code)


def test_v112_abandon_sends_no_answer(old):
    response = old.post("/rce/Registro/Autenticar", data={"estado": state_of(start(old)), "accion": "abandonar"})
    assert "no envía ninguna respuesta" in response.get_data(as_text=True)
    assert not has_answer(response)


def test_v112_unknown_training_code_is_refused(old):
    data = {"estado": state_of(start(old)), "accion": "error", "codigo": "999"}
    assert old.post("/rce/Registro/Autenticar", data=data).status_code == 400


def test_an_unknown_manual_version_is_refused():
    with pytest.raises(ValueError, match="SIMULATOR_MANUAL"):
        create_simulator_app({"SIMULATOR_MANUAL": "1.1.9"})


# --- Secrets, cookies, scripts -------------------------------------------------------------------


def _every_page(rce, old, clock):
    yield rce.sence.get("/")
    yield rce.claveunica.get("/")
    yield start(rce.sence, UrlError="")
    yield start(rce.sence, CodSence="1")
    yield start(rce.sence)
    yield (page := rce.request())
    yield rce.sign_in(page, password="0000")
    yield rce.press(page, "fallar")
    yield rce.press(page, "abandonar")
    yield rce.sign_in(rce.request(), demora="10")
    yield rce.sign_in(page)
    yield (page := start(old))
    yield old_sign_in(old, page, clave="0000")
    yield old.post("/rce/Registro/Autenticar", data={"estado": state_of(page), "accion": "error", "codigo": "212"})
    clock.now = START + timedelta(minutes=5)
    yield old_sign_in(old, page)


def test_the_token_never_appears_in_any_page_or_address(rce, old, clock):
    for response in _every_page(rce, old, clock):
        html = response.get_data(as_text=True)
        assert TOKEN not in html.lower()
        assert TOKEN not in response.headers.get("Location", "").lower()
        for state in re.findall(r'name="estado" value="([^"]+)"', html):
            assert TOKEN.encode() not in base64.urlsafe_b64decode(state + "==")


def test_no_cookies_and_no_inline_scripts(rce, old, clock):
    for response in _every_page(rce, old, clock):
        assert "Set-Cookie" not in response.headers
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
        assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))


def test_answer_pages_work_without_javascript(rce):
    html = rce.sign_in(rce.request()).get_data(as_text=True)
    assert "Continuar</button>" in html


def test_static_script_and_css_are_served(rce):
    for client in (rce.sence, rce.claveunica):
        html = client.get("/").get_data(as_text=True)
        for asset in re.findall(r'(?:src|href)="(/_simulador/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200


def test_home_page_explains_the_simulator(client):
    html = client.get("/").get_data(as_text=True)
    assert "IniciarSesion" in html and "CerrarSesion" in html and "ClaveÚnica" in html and "1234" in html


_names = st.sampled_from([*protocol.LOGOUT_FIELDS, "RutAlumno"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(_names, st.one_of(st.none(), st.text(max_size=300)), max_size=8))
def test_junk_requests_get_an_answer_or_a_page_never_a_crash(client, changes):
    for path in (LOGIN, LOGOUT):
        response = start(client, path=path, **changes)
        assert response.status_code in (200, 303, 400)
        assert TOKEN not in response.get_data(as_text=True).lower()

"""The RCE simulator, driven like a browser would: POST a request, read the page, follow the answer form.

It builds its own app (no database): the shared conftest's fixtures are shadowed below.
"""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sence import protocol
from app.simulator import create_simulator_app

TOKEN = "8fcf1e2a-1234-4abc-9def-0123456789ab"
OTHER_TOKEN = "11111111-2222-4333-8444-555555555555"
REVOKED = "22222222-2222-4333-8444-555555555555"
EXPIRED = "33333333-2222-4333-8444-555555555555"
RUT_OTEC = "76123456-0"
RUN = "12345678-5"
RETOMA = "http://localhost:5000/sence/retorno"
ERROR = "http://localhost:5000/sence/error"
START = datetime(2024, 5, 1, 15, 0, tzinfo=UTC)  # 11:00 in Santiago (winter, UTC-4)

REGISTRY = {
    "otecs": {
        RUT_OTEC: {
            "tokens": {TOKEN: {"expires": "2030-01-01"}, REVOKED: {"revoked": True}, EXPIRED: {"expires": "2024-05-01"}}
        },
        "11111111-1": {"tokens": {OTHER_TOKEN: {"expires": None}}},
    },
    "courses": {"CURSO-CON-NOMINA": {"runs": ["11.111.111-1"]}},
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


def start(client, path="/rce/Registro/IniciarSesion", **changes):
    return client.post(path, data=request_fields(**changes))


def state_of(page):
    return forms(page)[0]["fields"]["estado"]


def sign_in(client, page, run=RUN, clave="1234", base="rce"):
    return client.post(f"/{base}/Registro/Autenticar", data={"estado": state_of(page), "RUN": run, "Clave": clave})


def glosa(response):
    action, fields = answer(response)
    assert action == ERROR
    return fields["GlosaError"]


# --- Validation errors answer UrlError with the manual's code ------------------------------------


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
        ({"CodigoCurso": "123456"}, "205"),
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
        ({"Token": OTHER_TOKEN}, "211"),
        ({"Token": "44444444-2222-4333-8444-555555555555"}, "211"),  # unknown token, listed OTEC
        ({"Token": REVOKED}, "212"),
        ({"Token": EXPIRED}, "212"),
    ],
)
def test_registry_errors(strict, changes, code):
    assert glosa(start(strict, **changes)) == code


def test_registry_allows_what_it_lists(strict):
    assert forms(start(strict, CodigoCurso="CURSO-CON-NOMINA", RunAlumno="11111111-1"))[0]["fields"]["estado"]


def test_registry_is_strict_only_for_what_it_lists(strict):
    page = start(strict, RutOtec="77777777-7", Token="55555555-2222-4333-8444-555555555555")
    assert "estado" in forms(page)[0]["fields"]


def test_registry_can_be_a_json_file(make_client, tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(REGISTRY), encoding="utf-8")
    assert glosa(start(make_client(SIMULATOR_REGISTRY=str(path)), Token=REVOKED)) == "212"


def test_without_registry_any_well_formed_token_and_valid_run_pass(client):
    page = start(client, Token=OTHER_TOKEN, RunAlumno="11111111-1", CodigoCurso="CURSO-CON-NOMINA")
    assert "RUN" in page.get_data(as_text=True) and "estado" in forms(page)[0]["fields"]


def test_test_placeholders_are_accepted(client):
    page = start(client, CodSence="-1", CodigoCurso="-1")
    assert "estado" in forms(page)[0]["fields"]


@pytest.mark.parametrize(("url_error", "code"), [("", "201"), ("fracaso.asp", "203"), ("javascript:alert(1)", "203")])
def test_an_unusable_url_error_gets_a_page_since_nothing_can_be_posted(client, url_error, code):
    response = start(client, UrlError=url_error)
    assert response.status_code == 400
    assert f"Error {code}" in response.get_data(as_text=True)
    assert not [f for f in forms(response) if "data-autosubmit" in f["attrs"]]


def test_several_codes_can_be_joined_when_configured(make_client):
    sim = make_client(SIMULATOR_JOIN_CODES=True)
    assert glosa(start(sim, RutOtec="76123456-1", CodSence="1")) == "209;204"


def test_by_default_only_the_first_code_is_sent(client):
    assert glosa(start(client, RutOtec="76123456-1", CodSence="1")) == "209"


# --- The login page ------------------------------------------------------------------------------


def test_valid_request_shows_the_simulators_login_page_with_the_run_prefilled(client):
    page = start(client)
    html = page.get_data(as_text=True)
    assert "Simulador SENCE — Registro de Conexiones E-learning" in html
    assert ">RUN</label>" in html and ">Clave</label>" in html
    assert forms(page)[0]["fields"]["RUN"] == RUN
    assert "1234" in html


def test_any_single_segment_base_works(client):
    page = start(client, path="/rcetest/Registro/IniciarSesion")
    assert forms(page)[0]["attrs"]["action"] == "/rcetest/Registro/Autenticar"


def test_success_posts_the_manuals_fields_to_url_retoma(client):
    response = sign_in(client, start(client))
    action, fields = answer(response)
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


def test_run_may_be_typed_with_dots(client):
    assert answer(sign_in(client, start(client), run="12.345.678-5"))[0] == RETOMA


def test_wrong_password_shows_a_message_and_the_third_answers_100(client):
    page = start(client)
    for left in (2, 1):
        page = sign_in(client, page, clave="0000")
        assert "RUN o clave incorrectos" in page.get_data(as_text=True)
        assert f"Te quedan {left}" in page.get_data(as_text=True)
    response = sign_in(client, page, clave="0000")
    assert glosa(response) == "100"
    assert protocol.parse_answer(answer(response)[1]).is_error


def test_a_different_run_answers_311(client):
    assert glosa(sign_in(client, start(client), run="11.111.111-1")) == "311"


def test_an_invalid_run_typed_is_asked_again(client):
    page = sign_in(client, start(client), run="1-1")
    assert "Ingresa un RUN válido" in page.get_data(as_text=True)


def test_more_than_three_minutes_answers_210(client, clock):
    page = start(client)
    clock.now = START + timedelta(seconds=181)
    assert glosa(sign_in(client, page)) == "210"


def test_just_under_three_minutes_still_works(client, clock):
    page = start(client)
    clock.now = START + timedelta(seconds=179)
    assert answer(sign_in(client, page))[0] == RETOMA


def test_wrong_passwords_do_not_restart_the_three_minutes(client, clock):
    page = start(client)
    clock.now = START + timedelta(seconds=100)
    page = sign_in(client, page, clave="0000")
    clock.now = START + timedelta(seconds=200)
    assert glosa(sign_in(client, page)) == "210"


def test_the_browsers_timer_expires_the_page(client, clock):
    page = start(client)
    expire = [f for f in forms(page) if "data-expire-after" in f["attrs"]][0]
    assert expire["attrs"]["data-expire-after"] == "180"
    clock.now = START + timedelta(seconds=181)
    assert glosa(client.post("/rce/Registro/Autenticar", data=expire["fields"])) == "210"


def test_a_tampered_state_is_refused(client):
    page = start(client)
    state = state_of(page)
    data = {"estado": state[:-4] + "AAAA", "RUN": RUN, "Clave": "1234"}
    response = client.post("/rce/Registro/Autenticar", data=data)
    assert response.status_code == 400
    assert "no es válida" in response.get_data(as_text=True)


# --- Logout --------------------------------------------------------------------------------------


def test_logout_requires_id_sesion_sence(client):
    assert glosa(start(client, path="/rce/Registro/CerrarSesion")) == "200"


def test_logout_success_carries_no_id_sesion_sence(client):
    page = start(client, path="/rce/Registro/CerrarSesion", IdSesionSence="12345678901234567890")
    assert "Cierre de sesión" in page.get_data(as_text=True)
    action, fields = answer(sign_in(client, page))
    assert action == RETOMA
    assert tuple(fields) == protocol.LOGOUT_SUCCESS_FIELDS


def test_logout_errors_follow_the_manual(client):
    page = start(client, path="/rce/Registro/CerrarSesion", IdSesionSence="1")
    response = sign_in(client, page, run="11111111-1")
    assert tuple(answer(response)[1]) == protocol.LOGOUT_ERROR_FIELDS
    assert glosa(response) == "311"


def test_login_errors_carry_an_id_sesion_sence_like_the_manual_says(client):
    _, fields = answer(start(client, CodSence="1"))
    assert tuple(fields) == protocol.LOGIN_ERROR_FIELDS and fields["IdSesionSence"]


# --- Training buttons ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(protocol.ERRORS))
def test_respond_with_error_posts_the_chosen_code(client, code):
    page = start(client)
    [training] = [f for f in forms(page) if "codigo" in f["fields"]]
    options = re.findall(r'<option value="(\d+)"', page.get_data(as_text=True))
    assert [int(o) for o in options] == sorted(protocol.ERRORS)
    data = {"estado": training["fields"]["estado"], "accion": "error", "codigo": str(code)}
    assert glosa(client.post("/rce/Registro/Autenticar", data=data)) == str(code)


def test_abandon_sends_no_answer(client):
    page = start(client)
    response = client.post("/rce/Registro/Autenticar", data={"estado": state_of(page), "accion": "abandonar"})
    html = response.get_data(as_text=True)
    assert "no envía ninguna respuesta" in html
    assert not [f for f in forms(response) if "data-autosubmit" in f["attrs"]]


def test_unknown_training_code_is_refused(client):
    data = {"estado": state_of(start(client)), "accion": "error", "codigo": "999"}
    assert client.post("/rce/Registro/Autenticar", data=data).status_code == 400


# --- Secrets, cookies, scripts -------------------------------------------------------------------


def _every_page(client, clock):
    yield client.get("/")
    yield start(client, UrlError="")
    yield start(client, CodSence="1")
    page = start(client)
    yield page
    yield (page := sign_in(client, page, clave="0000"))
    yield sign_in(client, page)
    yield client.post("/rce/Registro/Autenticar", data={"estado": state_of(page), "accion": "abandonar"})
    yield client.post("/rce/Registro/Autenticar", data={"estado": state_of(page), "accion": "error", "codigo": "212"})
    clock.now = START + timedelta(minutes=5)
    yield sign_in(client, page)


def test_the_token_never_appears_in_any_page(client, clock):
    for response in _every_page(client, clock):
        html = response.get_data(as_text=True)
        assert TOKEN not in html.lower()
        for state in re.findall(r'name="estado" value="([^"]+)"', html):
            assert TOKEN.encode() not in base64.urlsafe_b64decode(state + "==")


def test_no_cookies_and_no_inline_scripts(client, clock):
    for response in _every_page(client, clock):
        assert "Set-Cookie" not in response.headers
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
        assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))


def test_answer_pages_work_without_javascript(client):
    html = sign_in(client, start(client)).get_data(as_text=True)
    assert "Continuar</button>" in html


def test_static_script_and_css_are_served(client):
    html = client.get("/").get_data(as_text=True)
    for asset in re.findall(r'(?:src|href)="(/_simulador/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200


def test_home_page_explains_the_simulator(client):
    html = client.get("/").get_data(as_text=True)
    assert "IniciarSesion" in html and "CerrarSesion" in html and "1234" in html


_names = st.sampled_from([*protocol.LOGOUT_FIELDS, "RutAlumno"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(_names, st.one_of(st.none(), st.text(max_size=300)), max_size=8))
def test_junk_requests_get_an_answer_or_a_page_never_a_crash(client, changes):
    for path in ("/rce/Registro/IniciarSesion", "/rce/Registro/CerrarSesion"):
        response = start(client, path=path, **changes)
        assert response.status_code in (200, 400)
        assert TOKEN not in response.get_data(as_text=True).lower()

"""The simulator's SIC endpoints over real HTTP: strict validation, the registry, the control and the history."""

from datetime import date

import requests

from app.sic import protocol
from tests.sence.builders import TOKEN
from tests.sic.test_protocol import _course

RUT_OTEC = "75062000-0"


def _payload() -> dict:
    return protocol.build_payload(_course(rut_otec=RUT_OTEC, token=TOKEN), date(2023, 8, 9))


def _send(sic, body) -> dict:
    data = body if isinstance(body, str) else None
    answer = requests.post(f"{sic.url}/enviarAvance", data=data, json=None if data else body, timeout=10,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    return answer.json()


def test_a_valid_send_is_accepted_and_shows_in_the_history(sic):
    answer = _send(sic, _payload())
    assert answer["errores"] == [] and answer["id_proceso"] == 1 and len(answer["envio"]) == 1
    assert "El proceso 1 ha finalizado correctamente" in answer["respuesta_SIC"]
    [process] = sic.history(rutOtec=RUT_OTEC, idSistema=1350, token=TOKEN.upper())
    assert process["codigo_externo"] == "CAP-21-01-13-9999-1" and process["rut_otec"] == "75062000"
    row = process["listaregistros"][0]
    assert (row["rut_alumno"], row["dv_alumno"], row["mod_cod"], row["estado_registro"]) == \
        ("13556884", "8", "ELE028837032039", "1")
    assert sic.history(rutOtec=RUT_OTEC, idSistema=1350, token=TOKEN.upper(), id_proceso="2") == []
    assert sic.history(rutOtec=RUT_OTEC, idSistema=1350, token=TOKEN.upper(), fechaDesde="2999-01-01") == []


def test_authentication_is_checked_first_and_nothing_is_kept(sic):
    for change in ({"token": TOKEN.lower()}, {"idSistema": "1350"}, {"rutOtec": "75062000-1"}):
        answer = _send(sic, {**_payload(), **change})
        assert answer["errores"] == [{"codigo": "001", "mensaje": "Token inválido"}], change
    assert _send(sic, "{not json")["errores"][0]["codigo"] == "001"
    assert sic.history(rutOtec=RUT_OTEC, idSistema=1350, token=TOKEN.upper()) == []
    assert sic.history(rutOtec=RUT_OTEC, idSistema=1350, token="x") == {"codigo": "001", "mensaje": "Token inválido"}


def test_an_invalid_field_rejects_that_student_with_its_code(sic):
    payload = _payload()
    good = payload["listaAlumnos"][0]
    bad = {**good, "rutAlumno": 11111111, "dvAlumno": "1", "listaModulos": [{**good["listaModulos"][0],
                                                                            "notaModulo": 120}]}
    answer = _send(sic, {**payload, "listaAlumnos": [good, bad]})
    assert [e["codigo"] for e in answer["datosError"]] == ["028"]
    assert answer["datosError"][0]["alumno"]["rutAlumno"] == 11111111 and len(answer["datosEnviados"]) == 1


def test_the_registry_answers_011_and_010(sic):
    sic.app.config["SIMULATOR_SIC_REGISTRY"] = {"CAP-21-01-13-9999-1": {"runs": ["11111111-1"], "modules": ["M9"]}}
    assert _send(sic, _payload())["datosError"][0]["codigo"] == "011"
    sic.app.config["SIMULATOR_SIC_REGISTRY"] = {"CAP-21-01-13-9999-1": {"runs": ["13556884-8"], "modules": ["M9"]}}
    assert _send(sic, _payload())["datosError"][0]["codigo"] == "010"


def test_the_control_forces_one_answer_and_refuses_unknown_codes(sic):
    page = requests.get(f"{sic.url}/control", timeout=10).text
    assert all(f'value="{code}"' in page for code in protocol.ERRORS)
    assert requests.post(f"{sic.url}/control", data={"codigo": "999"}, timeout=10).status_code == 400
    sic.force("002")
    assert _send(sic, _payload())["errores"][0]["codigo"] == "002"
    assert _send(sic, _payload())["errores"] == []  # used once

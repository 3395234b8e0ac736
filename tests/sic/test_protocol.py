"""The SIC payload and rules against the instructivo LMS-SIC v2.0 (pages cited), without Flask or a database."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.sic import protocol
from app.sic.protocol import CourseProgress, ModuleProgress, StudentProgress

TOKEN = "0e3d8af8-aaaa-4c15-0000-1e6e418a457e"  # the example's token (p. 48), in lower case
TODAY = date(2023, 8, 9)


def _course(**fields) -> CourseProgress:
    module = ModuleProgress(codigo="ELE028837032039", seconds=161073, grade=Decimal("5.0"), completed=7,
                            activities=["Foro Módulo 1", "Actividad Formativa 2 - Ejercicio Constitución de Empresa",
                                        "Actividad Formativa 4", "Actividad Formativa 1", "Actividad Formativa 3",
                                        "Clases Sincrónicas -M1", "Actividad Formativa 5"])
    student = StudentProgress(run="13556884-8", seconds=253115, status="reprobado", final_grade=Decimal("4.6"),
                              modules=[module])
    # The example's RUTs (p. 48) have wrong check digits; 75062000-0 and 13556884-8 (its second student) are valid.
    defaults = {"rut_otec": "75062000-0", "token": TOKEN, "codigo_oferta": "CAP-21-01-13-9999-1",
                "codigo_grupo": "CAP-21-01-13-9999-1", "codigo_envio": "CAP-21-01-13-9999-1",
                "start": date(2023, 7, 29), "end": date(2023, 12, 6), "students": [student]}
    defaults.update(fields)
    return CourseProgress(**defaults)


def test_payload_has_the_instructivos_fields_in_its_order_and_types():
    payload = protocol.build_payload(_course(), TODAY)
    assert tuple(payload) == protocol.COURSE_FIELDS
    assert payload["idSistema"] == 1350
    assert payload["token"] == TOKEN.upper()  # FAQ 11: all upper case
    assert payload["rutOtec"] == "75062000-0"
    student = payload["listaAlumnos"][0]
    assert tuple(student) == protocol.STUDENT_FIELDS
    assert student["rutAlumno"] == 13556884 and student["dvAlumno"] == "8"  # number without DV, DV as text
    assert student["tiempoConectividad"] == 253115
    assert student["estado"] == 3
    assert (student["fechaInicio"], student["fechaFin"], student["fechaEjecucion"]) == \
        ("2023-07-29", "2023-12-06", "2023-08-09")
    module = student["listaModulos"][0]
    assert tuple(module) == protocol.MODULE_FIELDS
    assert module["estado"] == 2 and module["porcentajeAvance"] == 100 and module["notaModulo"] == 67
    assert module["cantActividadAsincronica"] == 7 and module["cantActividadSincronica"] == 0
    assert payload["cantActividadAsincronica"] == 7 and payload["cantActividadSincronica"] == 0
    # p. 49 shows the same cut, trailing space included: "Actividad Formativa 2 - Ejercicio ConstituciC3n de "
    assert module["listaActividades"][1] == {"codigoActividad": "Actividad Formativa 2 - Ejercicio Constitución de "}
    assert all(len(a["codigoActividad"]) <= 50 for a in module["listaActividades"])


def test_a_built_payload_passes_the_simulators_validation():
    payload = protocol.build_payload(_course(), TODAY)
    assert protocol.validate_auth(payload) is None
    assert protocol.validate_course(payload) == []
    assert protocol.validate_student(payload["listaAlumnos"][0]) == []


@pytest.mark.parametrize("grade, percent", [(None, 0), (Decimal("1.0"), 0), (Decimal("4.0"), 50),
                                            (Decimal("5.0"), 67), (Decimal("7.0"), 100), (Decimal("4.2"), 53)])
def test_grades_become_the_instructivos_0_to_100(grade, percent):
    # p. 49: a module with notaModulo 53 is approved (estado 2): 4.0 must map to 50 or less.
    assert protocol.grade_to_percent(grade) == percent


@pytest.mark.parametrize("status, code", [("cursando", 1), ("aprobado", 2), ("reprobado", 3)])
def test_status_codes(status, code):
    course = _course()
    course.students[0].status = status
    assert protocol.build_payload(course, TODAY)["listaAlumnos"][0]["estado"] == code


def test_module_status_follows_page_7():
    assert protocol.module_status(3, 3, Decimal("3.9")) == 3
    assert protocol.module_status(3, 3, Decimal("4.0")) == 2
    assert protocol.module_status(2, 3, Decimal("6.0")) == 1
    assert protocol.module_status(3, 3, None) == 1


def test_progress_never_goes_below_what_sence_accepted():
    course = _course()
    student = course.students[0]
    student.modules[0].completed = 2  # 2 of 7 = 28 %
    student.modules[0].accepted_percent = 40
    student.accepted_percent = 45
    sent = protocol.build_payload(course, TODAY)["listaAlumnos"][0]
    assert sent["porcentajeAvance"] == 45
    assert sent["listaModulos"][0]["porcentajeAvance"] == 40
    student.modules[0].completed = 5  # 71 %: higher than accepted, so the real value goes
    sent = protocol.build_payload(course, TODAY)["listaAlumnos"][0]
    assert sent["porcentajeAvance"] == 71 and sent["listaModulos"][0]["porcentajeAvance"] == 71


def test_progress_is_a_whole_percent_that_reaches_100_only_when_all_is_done():
    assert protocol.percent(199, 200) == 99
    assert protocol.percent(200, 200) == 100
    assert protocol.percent(0, 0) == 0


def test_execution_date_stays_between_start_and_end():
    start, end = date(2023, 7, 29), date(2023, 12, 6)
    assert protocol.execution_date(date(2023, 12, 10), start, end) == end
    assert protocol.execution_date(date(2023, 7, 1), start, end) == start


T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_dedication_counts_gaps_up_to_45_minutes_only():
    actions = [(T0, "M1"), (T0 + timedelta(minutes=10), "M1"), (T0 + timedelta(minutes=55), "M2"),
               (T0 + timedelta(minutes=101), "M2"), (T0 + timedelta(minutes=111), None)]
    total, per_module = protocol.dedication(actions)
    # 10 min (M1) + 45 min exactly (M1, counted) + 46 min (not counted) + 10 min (M2)
    assert total == (10 + 45 + 10) * 60
    assert per_module == {"M1": 55 * 60, "M2": 10 * 60}


def test_dedication_of_one_click_or_none_is_zero_and_order_does_not_matter():
    assert protocol.dedication([]) == (0, {})
    assert protocol.dedication([(T0, "M1")]) == (0, {})
    shuffled = [(T0 + timedelta(minutes=5), "M1"), (T0, "M1")]
    assert protocol.dedication(shuffled) == (300, {"M1": 300})


def test_send_window_is_22_to_midnight_chile_time():
    # 1 Dec 2026, Chile is UTC-3 (summer time).
    assert not protocol.in_send_window(datetime(2026, 12, 2, 0, 59, tzinfo=UTC))  # 21:59
    assert protocol.in_send_window(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))  # 22:00
    assert protocol.in_send_window(datetime(2026, 12, 2, 2, 59, tzinfo=UTC))  # 23:59
    assert not protocol.in_send_window(datetime(2026, 12, 2, 3, 0, tzinfo=UTC))  # 00:00


def test_mask_token_hides_all_but_the_ends():
    payload = protocol.build_payload(_course(), TODAY)
    masked = protocol.mask_token(payload)
    assert masked["token"] == "0E3D…457E"
    assert TOKEN.upper() not in str(masked) and payload["token"] == TOKEN.upper()


def test_history_parameters_are_the_documented_ones():
    params = protocol.history_params("11222333-4", TOKEN, fecha_desde=date(2021, 8, 4), id_proceso="567")
    assert params == {"rutOtec": "11222333-4", "idSistema": "1350", "token": TOKEN.upper(),
                      "fechaDesde": "2021-08-04", "id_proceso": "567"}


# --- Validation: each code 001-033 is produced by the rule the instructivo gives it --------------------------


def _valid() -> dict:
    return protocol.build_payload(_course(), TODAY)


def test_authentication_errors_are_001():
    for change in ({"idSistema": 1351}, {"token": TOKEN}, {"token": "no-es-un-token"}, {"rutOtec": "75062000-4"}):
        payload = {**_valid(), **change}
        assert protocol.validate_auth(payload).code == "001", change


COURSE_CASES = [("cantActividadSincronica", -1, "032"), ("cantActividadAsincronica", "16", "033"),
                ("codigoOferta", "", "003"), ("listaAlumnos", [], "003")]


@pytest.mark.parametrize("name, value, code", COURSE_CASES)
def test_course_level_errors(name, value, code):
    payload = {**_valid(), name: value}
    assert [p.code for p in protocol.validate_course(payload)] == [code]


STUDENT_CASES = [("tiempoConectividad", -5, "021"), ("porcentajeAvance", 101, "022"), ("porcentajeAvance", "9", "022"),
                 ("evaluacionFinal", 100.5, "031"), ("dvAlumno", "4", "012"), ("fechaEjecucion", "2024-01-01", "026"),
                 ("listaModulos", [], "010")]


@pytest.mark.parametrize("name, value, code", STUDENT_CASES)
def test_student_level_errors(name, value, code):
    student = {**_valid()["listaAlumnos"][0], name: value}
    problems = protocol.validate_student(student)
    assert [p.code for p in problems] == [code]
    assert problems[0].rut == 13556884


MODULE_CASES = [("tiempoConectividad", -1, "023"), ("porcentajeAvance", -1, "024"),
                ("fechaInicio", "29-07-2023", "026"), ("fechaFin", "2023-13-01", "027"), ("notaModulo", 101, "028"),
                ("cantActividadSincronica", -2, "029"),
                ("cantActividadAsincronica", 1.5, "030"), ("listaActividades", [], "010")]


@pytest.mark.parametrize("name, value, code", MODULE_CASES)
def test_module_level_errors(name, value, code):
    module = {**_valid()["listaAlumnos"][0]["listaModulos"][0], name: value}
    assert [p.code for p in protocol.validate_module(module)] == [code]


def test_every_documented_code_has_a_spanish_meaning_and_a_fix():
    documented = {"001", "002", "003", "010", "011", "012", *(f"0{n}" for n in range(21, 34))}
    assert set(protocol.ERRORS) == documented
    for error in protocol.ERRORS.values():
        assert error.meaning and error.fix
    assert protocol.describe(25).code == "025"
    assert protocol.describe("999").text == "Error no documentado"
    assert protocol.describe(None).code == "sin código"


# --- Reading answers (pp. 12-13) --------------------------------------------------------------------------


def test_a_success_answer_has_no_rejections():
    answer = protocol.parse_send_answer('{"id_proceso": 25, "envio": [{}], "errores": [], "respuesta_SIC": '
                                        '"El proceso 25 ha finalizado correctamente"}')
    assert answer.ok and answer.id_proceso == "25" and answer.rejections == []


def test_the_documented_error_answer_names_the_student_and_code():
    text = ('{"id_proceso": 31, "datosEnviados": [], "datosError": [{"alumno": {"rutAlumno": 11111111, '
            '"dvAlumno": "5"}, "codigo": "012", "mensaje": "El alumno 11111111-5 no se encuentra registrado."}], '
            '"respuesta_SIC": " "}')
    answer = protocol.parse_send_answer(text)
    assert answer.rejected_ruts() == {"11111111"} and not answer.whole_send_rejected
    assert answer.rejections[0].error.code == "012"


@pytest.mark.parametrize("text", ["", "<html>502</html>", "[]", '{"datosError": "x"}', "null"])
def test_garbage_answers_never_raise(text):
    answer = protocol.parse_send_answer(text)
    assert answer.rejections == []


def test_history_answers():
    processes = protocol.parse_history('[{"id_proceso_externo": "30", "listaregistros": []}]')
    assert processes[0]["id_proceso_externo"] == "30"
    assert protocol.parse_history('{"codigo": "001", "mensaje": "Token inválido"}') is None
    assert protocol.history_error('{"codigo": "001", "mensaje": "Token inválido"}') == "001 Token inválido"

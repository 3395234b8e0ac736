"""The simulator's SIC endpoints (instructivo LMS-SIC v2.0): enviarAvance, historialEnvios and a control page.

Validates as strictly as the instructivo describes, with the rules of ``app.sic.protocol``, and remembers what
it accepted (per OTEC, course, group, RUN and module) so that a lower progress gets 025 like the real service.
Its state lives in the simulator process only. Without a registry it accepts any course and participant; with
``SIMULATOR_SIC_REGISTRY`` = {"<codigoOferta>": {"runs": ["11111111-1"], "modules": ["M1"]}} it answers
003/011/010 for what the registry does not list. The control forces the next send to answer a given code.
"""

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, render_template_string, request

from app.sic import protocol

bp = Blueprint("simulator_sic", __name__, url_prefix="/sic")
_LOCK = threading.Lock()


@dataclass
class SicState:
    processes: list[dict] = field(default_factory=list)
    accepted: dict[tuple, float] = field(default_factory=dict)  # (rutOtec, oferta, grupo, rut, module) -> %
    forced: list[dict] = field(default_factory=list)  # {"codigo": "012", "rut": "11111111" or ""}
    next_id: int = 1


def state() -> SicState:
    return current_app.extensions.setdefault("sic_simulator", SicState())


def _now() -> datetime:
    clock = current_app.config.get("SIMULATOR_NOW")
    return clock() if callable(clock) else datetime.now(UTC)


def _registry() -> dict:
    return current_app.config.get("SIMULATOR_SIC_REGISTRY") or {}


# --- enviarAvance -----------------------------------------------------------------------------------------


@bp.post("/enviarAvance")
def enviar_avance():
    try:
        payload = json.loads(request.get_data(as_text=True) or "")
    except ValueError:
        payload = None
    problem = protocol.validate_auth(payload)
    if problem is not None:  # 001: nothing is stored (p. 14)
        return _answer_errors([problem])
    with _LOCK:
        sim = state()
        forced_whole = _take_forced(sim, whole=True)
        whole = ([protocol.Problem(forced_whole, protocol.describe(forced_whole).text)] if forced_whole else
                 protocol.validate_course(payload) + _course_registered(payload))
        if whole:
            return _answer_errors(whole)
        return jsonify(_process(sim, payload))


def _answer_errors(problems: list) -> tuple:
    body = {"id_proceso": None, "envio": [], "datosEnviados": [], "datosError": [],
            "errores": [{"codigo": p.code, "mensaje": p.message} for p in problems], "respuesta_SIC": " "}
    return jsonify(body), 200


def _course_registered(payload: dict) -> list:
    registry = _registry()
    if registry and payload["codigoOferta"] not in registry:
        return [protocol.Problem("003", f"El curso ({payload['codigoOferta']}) no se encuentra registrado")]
    return []


def _process(sim: SicState, payload: dict) -> dict:
    process_id, sim.next_id = sim.next_id, sim.next_id + 1
    sent, errors, records = [], [], []
    for student in payload["listaAlumnos"]:
        problems = _student_problems(sim, payload, student)
        if problems:
            errors.append({"alumno": student, "codigo": problems[0].code, "mensaje": problems[0].message})
        else:
            sent.append(student)
            _remember(sim, payload, student)
        records += _records(payload, student, problems, process_id)
    message = (f"El proceso {process_id} ha finalizado correctamente, para ver la cantidad de registros y "
               "detalle, diríjase a la pantalla de procesos")
    sim.processes.append({
        "id_proceso_externo": str(process_id), "id_lms": "0", "codigo_externo": str(payload.get("codigoEnvio") or ""),
        "fecha": _now().strftime("%Y-%m-%d %H:%M:%S"), "horario": None, "observaciones": message,
        "observaciones_sic": None, "status_code": "0", "estado": "2", "rut_otec": payload["rutOtec"].split("-")[0],
        "_rut_otec": payload["rutOtec"], "listaregistros": records})
    if errors:
        return {"id_proceso": process_id, "datosEnviados": sent, "datosError": errors, "respuesta_SIC": " "}
    return {"id_proceso": process_id, "envio": sent, "errores": [], "respuesta_SIC": message}


def _student_problems(sim: SicState, payload: dict, student: object) -> list:
    problems = protocol.validate_student(student)
    if problems:
        return problems
    rut = str(student["rutAlumno"])
    forced = _take_forced(sim, whole=False, rut=rut)
    if forced:
        return [protocol.Problem(forced, _forced_message(forced, student), student["rutAlumno"])]
    listed = _registry().get(payload["codigoOferta"])
    if listed is not None:
        run = f"{rut}-{student['dvAlumno']}"
        if run not in listed.get("runs", [run]):
            return [protocol.Problem("011", f"El alumno {run} no se encuentra registrado en este curso.")]
        for module in student["listaModulos"]:
            if module["codigoModulo"] not in listed.get("modules", [module["codigoModulo"]]):
                return [protocol.Problem("010", f"El alumno {run} no se encuentra registrado en el módulo "
                                                f"{module['codigoModulo']}")]
    return _lower_than_before(sim, payload, student)


def _key(payload: dict, rut: str, module: str) -> tuple:
    return payload["rutOtec"], payload["codigoOferta"], payload["codigoGrupo"], rut, module


def _lower_than_before(sim: SicState, payload: dict, student: dict) -> list:
    """025 (p. 15 and p. 40 rule 1): a progress lower than the one already accepted."""
    rut = str(student["rutAlumno"])
    for module in student["listaModulos"]:
        before = sim.accepted.get(_key(payload, rut, module["codigoModulo"]))
        if before is not None and module["porcentajeAvance"] < before:
            return [protocol.Problem("025", f"modulo.porcentajeAvance debe ser mayor al anterior ({before:.5f})",
                                     student["rutAlumno"])]
    before = sim.accepted.get(_key(payload, rut, ""))
    if before is not None and student["porcentajeAvance"] < before:
        return [protocol.Problem("025", f"alumno.porcentajeAvance debe ser mayor al anterior ({before:.5f})",
                                 student["rutAlumno"])]
    return []


def _remember(sim: SicState, payload: dict, student: dict) -> None:
    rut = str(student["rutAlumno"])
    sim.accepted[_key(payload, rut, "")] = float(student["porcentajeAvance"])
    for module in student["listaModulos"]:
        sim.accepted[_key(payload, rut, module["codigoModulo"])] = float(module["porcentajeAvance"])


def _forced_message(code: str, student: dict) -> str:
    run = f"{student['rutAlumno']}-{student['dvAlumno']}"
    if code == "012":
        return f"El alumno {run} no se encuentra registrado."
    if code == "011":
        return f"El alumno {run} no se encuentra registrado en este curso."
    return protocol.describe(code).text


def _take_forced(sim: SicState, *, whole: bool, rut: str = "") -> str:
    """Pop the first forced code that applies: whole-send codes to the send, the others to a (or any) student."""
    for index, forced in enumerate(sim.forced):
        is_whole = protocol.describe(forced["codigo"]).whole_send
        if is_whole == whole and (whole or forced["rut"] in ("", rut)):
            return sim.forced.pop(index)["codigo"]
    return ""


def _records(payload: dict, student: dict, problems: list, process_id: int) -> list[dict]:
    """historialEnvios' `listaregistros` rows (pp. 41-43): one per student and module."""
    if not isinstance(student, dict):
        return []
    observation = f"[{problems[0].code}] {problems[0].message}" if problems else ""
    rut_otec, _, dv_otec = payload["rutOtec"].partition("-")
    rows = []
    for module in student.get("listaModulos") or [{}]:
        module = module if isinstance(module, dict) else {}
        rows.append({
            "id_registro": str(len(rows) + 1), "rut_otec": rut_otec, "dv_otec": dv_otec,
            "oferta_cod": payload["codigoOferta"], "seccion_cod": payload["codigoGrupo"],
            "rut_alumno": str(student.get("rutAlumno")), "dv_alumno": str(student.get("dvAlumno")),
            "tiempo_conectividad": str(student.get("tiempoConectividad")), "estado": str(student.get("estado")),
            "porcentaje_avance": f"{float(student.get('porcentajeAvance') or 0):.5f}",
            "fecha_inicio": f"{student.get('fechaInicio')} 00:00:00",
            "fecha_fin": f"{student.get('fechaFin')} 00:00:00",
            "fecha_ejecucion": _now().strftime("%Y-%m-%d %H:%M:%S"), "mod_cod": module.get("codigoModulo"),
            "mod_tiempo_conectividad": str(module.get("tiempoConectividad")), "mod_estado": str(module.get("estado")),
            "mod_porcentaje_avance": f"{float(module.get('porcentajeAvance') or 0):.5f}",
            "mod_nota": None if module.get("notaModulo") is None else str(module.get("notaModulo")),
            "estado_registro": "3" if problems else "1", "obs_registro": observation,
            "id_proceso_externo": str(process_id)})
    return rows


# --- historialEnvios --------------------------------------------------------------------------------------


@bp.get("/historialEnvios")
def historial_envios():
    args = request.args
    auth = {"rutOtec": args.get("rutOtec", ""), "token": args.get("token", ""),
            "idSistema": int(args["idSistema"]) if args.get("idSistema", "").isdigit() else None}
    problem = protocol.validate_auth(auth)
    if problem is not None:  # p. 11: a 200 with an error message
        return jsonify({"codigo": problem.code, "mensaje": problem.message})
    with _LOCK:
        processes = [p for p in state().processes if p["_rut_otec"] == auth["rutOtec"]]
    if args.get("fechaDesde"):
        processes = [p for p in processes if p["fecha"][:10] >= args["fechaDesde"]]
    if args.get("codigo_externo"):
        processes = [p for p in processes if p["codigo_externo"] == args["codigo_externo"]]
    if args.get("id_proceso"):
        processes = [p for p in processes if p["id_proceso_externo"] == args["id_proceso"]]
    return jsonify([{k: v for k, v in p.items() if not k.startswith("_")} for p in processes])


# --- The control: make the next send answer a given error code ----------------------------------------------

_PAGE = """<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Simulador SIC</title></head><body>
<h1>Simulador SIC (API Gestor Intermedio)</h1>
<p>Elige un código para que el próximo envío lo responda (a un participante, o a todo el envío si el código
afecta al envío completo). Pendientes: {{ forced|length }}.</p>
<form method="post"><label>Código <select name="codigo">{% for e in errors %}
<option value="{{ e.code }}">{{ e.code }} · {{ e.text }}</option>{% endfor %}</select></label>
<label>RUN sin dígito (opcional) <input name="rut" inputmode="numeric"></label>
<button type="submit">Forzar en el próximo envío</button></form>
<ul>{% for f in forced %}<li>{{ f.codigo }} {{ f.rut or "(cualquiera)" }}</li>{% endfor %}</ul></body></html>"""


@bp.route("/control", methods=["GET", "POST"])
def control():
    """Tests and demos POST codigo=NNN (and rut=12345678 to aim at one participant); GET shows the form."""
    if request.method == "POST":
        code = request.form.get("codigo", "").strip()
        rut = "".join(ch for ch in request.form.get("rut", "") if ch.isdigit())[:9]
        if code not in protocol.ERRORS:
            return jsonify({"error": f"código desconocido: {code[:10]}"}), 400
        with _LOCK:
            state().forced.append({"codigo": code, "rut": rut})
        if request.accept_mimetypes.best == "application/json" or not request.accept_mimetypes.accept_html:
            return jsonify({"forzado": code, "rut": rut})
    return render_template_string(_PAGE, errors=protocol.ERRORS.values(), forced=state().forced)


@bp.post("/reiniciar")
def reset():
    """Forget every process and accepted progress (tests, demos)."""
    with _LOCK:
        current_app.extensions["sic_simulator"] = SicState()
    return jsonify({"ok": True})

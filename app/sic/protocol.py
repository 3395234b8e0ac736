"""SENCE SIC progress API (instructivo "Integración entre LMS y SIC", v2.0, Aug 2023): payload, rules, answers.

One module, no Flask, so it can be read beside ``../shared/sence/instructivo-lms-sic-v2.0.txt`` and tested
alone; the simulator validates with the same tables. Page numbers below are the instructivo's.
Everything SENCE answers is untrusted: the parsers never raise on it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.sence.protocol import SANTIAGO, TOKEN_RE, sence_run

ID_SISTEMA = 1350  # p. 10: "siempre se envía el valor 1350"
SEND_PATH = "/enviarAvance"  # p. 12, POST, Content-Type: application/json
HISTORY_PATH = "/historialEnvios"  # pp. 11 and 40, GET with query parameters
TIMEOUT_SECONDS = 600  # p. 44: "CURLOPT_TIMEOUT, 600 ... 10 minutos"
MAX_GAP = timedelta(minutes=45)  # p. 46: at most 45 minutes between a user's clicks count as dedication
WINDOW_START_HOUR = 22  # p. 16 FAQ 7 and p. 45: once a day between 22:00 and 00:00 America/Santiago
MAX_ACTIVITY_CODE = 50  # p. 7: "Si se envía un texto con más de 50 caracteres, este se trunca"
DATE_FORMAT = "%Y-%m-%d"  # "YYYY-MM-DD"

CURSANDO, APROBADO, REPROBADO = 1, 2, 3  # p. 6
STATUS_CODES = {"cursando": CURSANDO, "aprobado": APROBADO, "reprobado": REPROBADO}
STATUS_LABELS = {CURSANDO: "Cursando", APROBADO: "Aprobado", REPROBADO: "Reprobado"}
PASSING_GRADE = Decimal("4.0")

# Key order as in the instructivo's example (pp. 48-53).
COURSE_FIELDS = ("rutOtec", "idSistema", "token", "codigoOferta", "codigoGrupo", "codigoEnvio",
                 "cantActividadAsincronica", "cantActividadSincronica", "listaAlumnos")
STUDENT_FIELDS = ("rutAlumno", "dvAlumno", "tiempoConectividad", "estado", "porcentajeAvance", "fechaInicio",
                  "fechaFin", "fechaEjecucion", "evaluacionFinal", "listaModulos")
MODULE_FIELDS = ("codigoModulo", "tiempoConectividad", "estado", "porcentajeAvance", "fechaInicio", "fechaFin",
                 "notaModulo", "cantActividadAsincronica", "cantActividadSincronica", "listaActividades")


# --- Error codes (pp. 14-15), with what they mean for an OTEC and what to fix -----------------------------


@dataclass(frozen=True)
class SicError:
    code: str
    text: str  # the instructivo's "Texto Error"
    meaning: str  # Spanish, for the OTEC: what happened
    fix: str  # Spanish: what to change before the next send
    whole_send: bool = False  # nothing of the send was stored (authentication, course)


_E = SicError
ERRORS: dict[str, SicError] = {e.code: e for e in (
    _E("001", "Token inválido", "SENCE no reconoció los datos de autenticación (idSistema, RUT del OTEC o token); "
       "no se guardó nada del envío.", "Revisa el RUT del OTEC y su token en «OTEC y SENCE» (el token se genera en "
       "sistemas.sence.cl/rts) y vuelve a enviar.", True),
    _E("002", "Error de autenticación", "Falló la autenticación en SENCE: desde problemas de conexión hasta una "
       "caída del servicio de autenticación.", "Espera unos minutos y usa «Enviar ahora»; si se repite, escribe a "
       "adminelearning@sence.cl.", True),
    _E("003", "El curso no se encuentra registrado", "El código de curso (codigoOferta) no existe en el Gestor "
       "Intermedio de SENCE.", "Corrige el código del curso y el de la sección con los que muestra "
       "sicadministrativo.sence.cl (Mantenedores › Cursos).", True),
    _E("010", "El alumno no se encuentra registrado en el módulo", "El participante existe en SENCE pero no "
       "pertenece a ese módulo.", "Revisa el código SIC del módulo y que el participante esté inscrito en él en SIC."),
    _E("011", "El alumno no se encuentra registrado en este curso", "El participante existe en SENCE pero no "
       "pertenece a este curso.", "Revisa el RUN del participante y su inscripción en el curso en SIC."),
    _E("012", "El alumno no se encuentra registrado", "SENCE no conoce el RUN del participante; los demás "
       "participantes sí se procesaron.", "Revisa el RUN del participante o pide a SENCE su inscripción."),
    _E("021", "alumno.tiempoConectividad inválido", "El tiempo de conexión del participante no es numérico o es "
       "negativo.", "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("022", "alumno.porcentajeAvance inválido", "El avance del participante no es numérico o es negativo.",
       "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("023", "modulo.tiempoConectividad inválido", "El tiempo de conexión de un módulo no es numérico o es "
       "negativo.", "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("024", "modulo.porcentajeAvance inválido", "El avance de un módulo no es numérico o es negativo.",
       "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("025", "modulo.porcentajeAvance debe ser mayor al anterior", "SENCE ya tiene un avance mayor para ese "
       "módulo (enviado antes, quizá desde otra plataforma o con otra asignación de lecciones).",
       "No quites lecciones ni evaluaciones de un módulo ya informado; el avance se completará cuando el "
       "participante supere el valor anterior."),
    _E("026", "modulo.fechaInicio inválido", "La fecha de inicio del módulo no tiene formato aaaa-mm-dd.",
       "Revisa la fecha de inicio del curso en «Datos»."),
    _E("027", "modulo.fechaFin inválido", "La fecha de término del módulo no tiene formato aaaa-mm-dd.",
       "Revisa la fecha de término del curso en «Datos»."),
    _E("028", "modulo.notaModulo inválido", "La nota de un módulo no es numérica o está fuera de 0 a 100.",
       "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("029", "modulo.cantActividadSincronica inválido", "La cantidad de actividades sincrónicas de un módulo no "
       "es numérica o es negativa.", "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("030", "modulo.cantActividadAsincronica inválido", "La cantidad de actividades asincrónicas de un módulo "
       "no es numérica o es negativa.", "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("031", "alumno.evaluacionFinal inválido", "La evaluación final del participante no es numérica o está "
       "fuera de 0 a 100.", "Es un error de Pizarra: avisa a soporte con el número de este envío."),
    _E("032", "curso.cantActividadSincronica inválido", "La cantidad de actividades sincrónicas del curso no es "
       "numérica o es negativa.", "Es un error de Pizarra: avisa a soporte con el número de este envío.", True),
    _E("033", "curso.cantActividadAsincronica inválido", "La cantidad de actividades asincrónicas del curso no es "
       "numérica o es negativa.", "Es un error de Pizarra: avisa a soporte con el número de este envío.", True),
)}


def describe(code: object) -> SicError:
    """The meaning of a code SENCE sent; unknown or garbled codes get a generic explanation, never an exception."""
    text = re.sub(r"\D", "", str(code or ""))[:3].zfill(3) if str(code or "").strip() else ""
    if text in ERRORS:
        return ERRORS[text]
    shown = _printable(str(code or ""))[:20] or "sin código"
    return SicError(shown, "Error no documentado", f"SENCE respondió un código que el instructivo v2.0 no "
                    f"documenta ({shown}).", "Revisa el mensaje de SENCE; si no es claro, escribe a "
                    "adminelearning@sence.cl.")


# --- What Pizarra knows, in the instructivo's terms ---------------------------------------------------------


@dataclass
class ModuleProgress:
    codigo: str
    seconds: int
    activities: list[str]  # names of every mandatory activity of the module (lessons, evaluations)
    completed: int  # how many of them the participant completed
    grade: Decimal | None  # Chilean 1.0-7.0, None while there is none
    accepted_percent: int = 0  # the highest SENCE has accepted for this module: never send less (025)


@dataclass
class StudentProgress:
    run: str  # 12345678-9
    seconds: int
    status: str  # cursando | aprobado | reprobado
    final_grade: Decimal | None  # Chilean 1.0-7.0
    modules: list[ModuleProgress]
    accepted_percent: int = 0


@dataclass
class CourseProgress:
    rut_otec: str
    token: str
    codigo_oferta: str
    codigo_grupo: str
    codigo_envio: str
    start: date
    end: date
    students: list[StudentProgress] = field(default_factory=list)


# --- Rules ------------------------------------------------------------------------------------------------


def grade_to_percent(grade: Decimal | float | None) -> int:
    """Chilean 1.0-7.0 as the instructivo's 0-100 "porcentaje de nota": 1.0 -> 0, 4.0 -> 50, 7.0 -> 100.

    Linear over the scale: the only reading consistent with the example (p. 49), where a module with
    notaModulo 53 has estado 2 (approved, grade >= 4.0). None (no grade yet) is 0.
    """
    if grade is None:
        return 0
    value = (Decimal(str(grade)) - 1) * 100 / 6
    return int(min(max(value, Decimal(0)), Decimal(100)).quantize(Decimal(1), ROUND_HALF_UP))


def percent(done: int, total: int) -> int:
    """Whole percent of mandatory activities completed (porcentajeAvance is "Número Entero 0-100"); floors,
    so 99.6 % is not reported as complete."""
    if total <= 0:
        return 0
    return max(0, min(100, (100 * done) // total))


def never_less(computed: int, accepted: int) -> int:
    """Error 025: SENCE refuses a progress lower than what it has; keep what was last accepted."""
    return max(computed, accepted or 0)


def module_status(completed: int, total: int, grade: Decimal | None) -> int:
    """p. 7: every activity done with grade < 4 -> 3, with grade >= 4 -> 2, any other case -> 1."""
    if total == 0 or completed < total or grade is None:
        return CURSANDO
    return APROBADO if Decimal(str(grade)) >= PASSING_GRADE else REPROBADO


def activity_code(name: str) -> str:
    """SENCE truncates at 50 characters; we do it ourselves so the log shows what SENCE keeps."""
    return " ".join((name or "").split())[:MAX_ACTIVITY_CODE] or "Actividad"


def dedication(actions: Iterable[tuple[datetime, object]], max_gap: timedelta = MAX_GAP) -> tuple[int, dict]:
    """Dedication time (p. 46): the sum of the gaps between consecutive actions, skipping gaps over `max_gap`.

    `actions` are (time, key) in any order; a gap is credited to the key of the action that *opened* it (the page
    being read until the next click). Returns (total seconds, {key: seconds}); key None counts only in the total.
    """
    ordered = sorted(actions, key=lambda action: action[0])
    total, per_key = 0.0, {}
    for (previous, key), (current, _next_key) in zip(ordered, ordered[1:], strict=False):
        gap = (current - previous).total_seconds()
        if 0 < gap <= max_gap.total_seconds():
            total += gap
            if key is not None:
                per_key[key] = per_key.get(key, 0) + gap
    return int(total), {key: int(seconds) for key, seconds in per_key.items()}


def execution_date(today: date, start: date, end: date) -> date:
    """fechaEjecucion must lie between fechaInicio and fechaFin (p. 6): a send after the end reports the end."""
    return min(max(today, start), end)


def in_send_window(now: datetime) -> bool:
    """22:00-00:00 America/Santiago (p. 45)."""
    return now.astimezone(SANTIAGO).hour >= WINDOW_START_HOUR


def build_payload(course: CourseProgress, today: date) -> dict:
    """The enviarAvance body (pp. 5-7, 48-53) for one course: one call per course (p. 8)."""
    students = [_student(s, course, today) for s in course.students]
    first_modules = students[0]["listaModulos"] if students else []
    return {
        "rutOtec": course.rut_otec,
        "idSistema": ID_SISTEMA,
        "token": course.token.strip().upper(),  # p. 17 FAQ 11 and p. 19: upper case
        "codigoOferta": course.codigo_oferta,
        "codigoGrupo": course.codigo_grupo,
        "codigoEnvio": course.codigo_envio,
        "cantActividadAsincronica": sum(m["cantActividadAsincronica"] for m in first_modules),
        "cantActividadSincronica": 0,  # Pizarra has no synchronous classes
        "listaAlumnos": students,
    }


def _student(student: StudentProgress, course: CourseProgress, today: date) -> dict:
    number, _, check_digit = sence_run(student.run).partition("-")
    modules = [_module(m, course) for m in student.modules]
    done = sum(m.completed for m in student.modules)
    total = sum(len(m.activities) for m in student.modules)
    return {
        "rutAlumno": int(number),
        "dvAlumno": check_digit,
        "tiempoConectividad": max(0, int(student.seconds)),
        "estado": STATUS_CODES.get(student.status, CURSANDO),
        "porcentajeAvance": never_less(percent(done, total), student.accepted_percent),
        "fechaInicio": course.start.strftime(DATE_FORMAT),
        "fechaFin": course.end.strftime(DATE_FORMAT),
        "fechaEjecucion": execution_date(today, course.start, course.end).strftime(DATE_FORMAT),
        "evaluacionFinal": grade_to_percent(student.final_grade),
        "listaModulos": modules,
    }


def _module(module: ModuleProgress, course: CourseProgress) -> dict:
    total = len(module.activities)
    return {
        "codigoModulo": module.codigo,
        "tiempoConectividad": max(0, int(module.seconds)),
        "estado": module_status(module.completed, total, module.grade),
        "porcentajeAvance": never_less(percent(module.completed, total), module.accepted_percent),
        "fechaInicio": course.start.strftime(DATE_FORMAT),  # p. 7: the module's dates are the course's
        "fechaFin": course.end.strftime(DATE_FORMAT),
        "notaModulo": grade_to_percent(module.grade),
        "cantActividadAsincronica": total,
        "cantActividadSincronica": 0,
        "listaActividades": [{"codigoActividad": activity_code(name)} for name in module.activities],
    }


def mask_token(payload: dict) -> dict:
    """A copy fit for a log or a screen: the token as 8FCF…4F8F."""
    shown = copy.deepcopy(payload)
    token = str(shown.get("token") or "")
    if token:
        shown["token"] = f"{token[:4]}…{token[-4:]}" if len(token) > 8 else "…"
    return shown


def history_params(rut_otec: str, token: str, *, fecha_desde: date | None = None, codigo_externo: str = "",
                   id_proceso: str = "") -> dict[str, str]:
    """historialEnvios query (p. 41): the three required parameters and the optional filters given."""
    params = {"rutOtec": rut_otec, "idSistema": str(ID_SISTEMA), "token": token.strip().upper()}
    if fecha_desde:
        params["fechaDesde"] = fecha_desde.strftime(DATE_FORMAT)
    if codigo_externo:
        params["codigo_externo"] = codigo_externo
    if id_proceso:
        params["id_proceso"] = id_proceso
    return params


# --- Validation (the simulator's, and our own check before sending) ------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    rut: int | None = None  # None: the whole send


def _number(value: object, *, integer: bool = False, low: float | None = 0, high: float | None = None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if integer and not isinstance(value, int):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _is_date(value: object) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return datetime.strptime(value, DATE_FORMAT).date()
    except ValueError:
        return None


def validate_auth(payload: object) -> Problem | None:
    """001 when idSistema, the OTEC's RUT or the token's form is wrong (the token must be upper case)."""
    if not isinstance(payload, dict):
        return Problem("001", "Estructura JSON inválida")
    token, rut = payload.get("token"), payload.get("rutOtec")
    if payload.get("idSistema") != ID_SISTEMA or not isinstance(token, str) or not TOKEN_RE.match(token) \
            or token != token.upper() or not isinstance(rut, str) or not _valid_rut(rut):
        return Problem("001", "Token inválido")
    return None


def _valid_rut(value: str) -> bool:
    try:
        return sence_run(value) == value
    except ValueError:
        return False


def validate_course(payload: dict) -> list[Problem]:
    """Course-level rules (pp. 5, 14-15): 032, 033 and the non-empty student list."""
    problems = []
    if not _number(payload.get("cantActividadSincronica"), integer=True):
        problems.append(Problem("032", "curso.cantActividadSincronica inválido"))
    if not _number(payload.get("cantActividadAsincronica"), integer=True):
        problems.append(Problem("033", "curso.cantActividadAsincronica inválido"))
    for name in ("codigoOferta", "codigoGrupo"):
        if not isinstance(payload.get(name), str) or not payload[name].strip():
            problems.append(Problem("003", f"El curso ({name}) no se encuentra registrado"))
    if not isinstance(payload.get("listaAlumnos"), list) or not payload["listaAlumnos"]:
        problems.append(Problem("003", "listaAlumnos no puede ser una lista vacía"))
    return problems


def validate_student(student: object) -> list[Problem]:
    """One student's rules (pp. 6-7, 14-15); problems name the student's RUT when it is readable."""
    if not isinstance(student, dict):
        return [Problem("012", "El alumno no se encuentra registrado.")]
    rut = student.get("rutAlumno") if _number(student.get("rutAlumno"), integer=True, low=1) else None
    problems = []

    def add(code: str, message: str) -> None:
        problems.append(Problem(code, message, rut))

    dv = student.get("dvAlumno")
    if rut is None or not isinstance(dv, str) or not _valid_rut(f"{rut}-{dv}"):
        add("012", f"El alumno {student.get('rutAlumno')}-{dv} no se encuentra registrado.")
    if not _number(student.get("tiempoConectividad"), integer=True):
        add("021", "alumno.tiempoConectividad inválido")
    if not _number(student.get("porcentajeAvance"), integer=True, high=100):
        add("022", "alumno.porcentajeAvance inválido")
    if not _number(student.get("evaluacionFinal"), high=100):
        add("031", "alumno.evaluacionFinal inválido")
    if student.get("estado") not in (CURSANDO, APROBADO, REPROBADO):
        add("022", "alumno.estado inválido (1, 2 o 3)")
    start, end = _is_date(student.get("fechaInicio")), _is_date(student.get("fechaFin"))
    run_on = _is_date(student.get("fechaEjecucion"))
    if start is None or end is None or end < start or run_on is None or not start <= run_on <= end:
        add("026", "alumno.fechaInicio, fechaFin o fechaEjecucion inválida")
    modules = student.get("listaModulos")
    if not isinstance(modules, list) or not modules:
        add("010", "listaModulos no puede ser una lista vacía")
        return problems
    for module in modules:
        problems += [Problem(p.code, p.message, rut) for p in validate_module(module)]
    return problems


def validate_module(module: object) -> list[Problem]:
    if not isinstance(module, dict):
        return [Problem("010", "Módulo inválido")]
    checks = (
        ("023", "modulo.tiempoConectividad inválido", _number(module.get("tiempoConectividad"), integer=True)),
        ("024", "modulo.porcentajeAvance inválido", _number(module.get("porcentajeAvance"), integer=True, high=100)),
        ("026", "modulo.fechaInicio inválido", _is_date(module.get("fechaInicio")) is not None),
        ("027", "modulo.fechaFin inválido", _is_date(module.get("fechaFin")) is not None),
        ("028", "modulo.notaModulo inválido", _number(module.get("notaModulo"), high=100)),
        ("029", "modulo.cantActividadSincronica inválido", _number(module.get("cantActividadSincronica"),
                                                                   integer=True)),
        ("030", "modulo.cantActividadAsincronica inválido", _number(module.get("cantActividadAsincronica"),
                                                                    integer=True)),
        ("010", "modulo.codigoModulo inválido", isinstance(module.get("codigoModulo"), str)
         and bool(module["codigoModulo"].strip())),
        ("010", "listaActividades no puede ser una lista vacía", _activities_ok(module.get("listaActividades"))),
        ("024", "modulo.estado inválido (1, 2 o 3)", module.get("estado") in (CURSANDO, APROBADO, REPROBADO)),
    )
    return [Problem(code, message) for code, message, ok in checks if not ok]


def _activities_ok(activities: object) -> bool:
    return isinstance(activities, list) and bool(activities) and all(
        isinstance(a, dict) and isinstance(a.get("codigoActividad"), str) and a["codigoActividad"].strip()
        for a in activities)


# --- SENCE's answers (pp. 12-13, 41-43) ---------------------------------------------------------------------


@dataclass
class Rejection:
    rut: str  # "12345678" as SENCE sent it, or "" for the whole send
    code: str
    message: str

    @property
    def error(self) -> SicError:
        return describe(self.code)


@dataclass
class SendAnswer:
    ok: bool  # readable JSON in the documented shape
    id_proceso: str = ""
    respuesta: str = ""
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def whole_send_rejected(self) -> bool:
        return any(r.rut == "" for r in self.rejections)

    def rejected_ruts(self) -> set[str]:
        return {r.rut for r in self.rejections if r.rut}


def parse_send_answer(text: str) -> SendAnswer:
    """Read enviarAvance's answer: `errores` (whole send) and `datosError` (per student, p. 13)."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return SendAnswer(ok=False)
    if not isinstance(data, dict):
        return SendAnswer(ok=False)
    rejections = [_rejection(item, whole=True) for item in _list(data.get("errores"))]
    rejections += [_rejection(item, whole=False) for item in _list(data.get("datosError"))]
    return SendAnswer(ok=True, id_proceso=_printable(str(data.get("id_proceso") or ""))[:40],
                      respuesta=_printable(str(data.get("respuesta_SIC") or ""))[:500],
                      rejections=[r for r in rejections if r is not None])


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _rejection(item: object, *, whole: bool) -> Rejection | None:
    if isinstance(item, str):
        return Rejection("", describe(item).code, _printable(item)[:300])
    if not isinstance(item, dict):
        return None
    student = item.get("alumno") if isinstance(item.get("alumno"), dict) else {}
    rut = "" if whole else re.sub(r"\D", "", str(student.get("rutAlumno") or ""))[:9]
    return Rejection(rut, describe(item.get("codigo")).code, _printable(str(item.get("mensaje") or ""))[:300])


def parse_history(text: str) -> list[dict] | None:
    """historialEnvios' answer (pp. 41-43): a list of processes, each with its `listaregistros`; None if unreadable."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if isinstance(data, dict):  # an error answer (p. 11: "responde un mensaje de error")
        return None
    if not isinstance(data, list):
        return None
    return [item for item in data if isinstance(item, dict)]


def history_error(text: str) -> str:
    """The message of an error answer to historialEnvios (p. 11), readable and short."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return _printable(text or "")[:200] or "respuesta vacía"
    if isinstance(data, dict):
        code, message = data.get("codigo") or data.get("code") or "", data.get("mensaje") or data.get("message")
        return _printable(f"{code} {message or describe(code).text}".strip())[:300]
    return "respuesta con formato inesperado"


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())

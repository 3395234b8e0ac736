"""SIC rules: a course's settings and modules, the daily send (sweep, "enviar ahora", CLI), its log, the history.

Each public function that changes data commits. Nothing here reads `request`. The payload itself is built by
`app.sic.protocol` from what `collect` reads here; the course status and grades come from
`app.evaluations.status`, the same answer certificates read.

Several sweeps may run at once: a course is claimed for the day with SELECT ... FOR UPDATE SKIP LOCKED on
PostgreSQL (as close reminders are) and `last_sent_on` set in the same transaction, before the HTTP call.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import requests
from flask import current_app
from sqlalchemy import Integer, insert, literal, null, or_, select, update

from app.auth.models import User
from app.courses.models import Course, Enrollment, Lesson, LessonProgress, Material
from app.evaluations.grades import weighted_average
from app.evaluations.models import Evaluation
from app.evaluations.status import counted_results, course_statuses
from app.extensions import db
from app.notify.service import enqueue
from app.sence import tokens
from app.sence.service import usable_token
from app.sic import protocol
from app.sic.models import (
    CourseSic,
    SicAccepted,
    SicAction,
    SicModule,
    SicModuleEvaluation,
    SicModuleLesson,
    SicSend,
)
from app.timeutil import UTCDateTime, format_chile, today_in_chile, utcnow

log = logging.getLogger(__name__)

BASE_URL_SETTINGS = {"simulator": "SIC_SIMULATOR_URL", "production": "SIC_PRODUCTION_URL"}
ENVIRONMENT_LABELS = {"simulator": "Simulador", "production": "SENCE (auladigital.sence.cl)"}
STATUS_LABELS = {"accepted": "Aceptado", "partial": "Aceptado con rechazos", "rejected": "Rechazado",
                 "failed": "No enviado"}
AFTER_END = timedelta(days=7)  # the sweep keeps sending this long after the end, so final statuses reach SIC
RESPONSE_CAP = 200_000


class RuleError(ValueError):
    """A change was refused; `str()` is a Spanish message and nothing was stored."""


# --- Settings and modules ---------------------------------------------------------------------------------


def settings_of(course: Course) -> CourseSic:
    """The course's SIC settings, created on first use: on for line 1 (social programmes), off otherwise."""
    if course.sic is None:
        linea = course.sence.linea if course.sence is not None else None
        course.sic = CourseSic(enabled=linea == 1, environment="simulator")
        db.session.flush()
    return course.sic


def save_settings(course: Course, data: dict) -> CourseSic:
    settings = settings_of(course)
    settings.enabled = bool(data["enabled"])
    settings.codigo_oferta = (data["codigo_oferta"] or "").strip()
    settings.codigo_grupo = (data["codigo_grupo"] or "").strip()
    settings.environment = data["environment"]
    db.session.commit()
    return settings


def add_module(course: Course, codigo: str) -> SicModule:
    settings = settings_of(course)
    codigo = (codigo or "").strip()
    if not codigo or len(codigo) > 50:
        raise RuleError("Escribe el código SIC del módulo (hasta 50 caracteres).")
    if any(module.codigo == codigo for module in settings.modules):
        raise RuleError(f"El módulo {codigo} ya está en el curso.")
    module = SicModule(codigo=codigo, position=len(settings.modules) + 1)
    settings.modules.append(module)
    db.session.commit()
    return module


def module_in(course_id: int, module_id: int) -> SicModule | None:
    module = db.session.get(SicModule, module_id)
    return module if module is not None and module.course_id == course_id else None


def delete_module(module: SicModule) -> None:
    db.session.delete(module)
    db.session.commit()


def course_evaluations(course_id: int) -> list[Evaluation]:
    return list(db.session.execute(
        select(Evaluation).where(Evaluation.course_id == course_id).order_by(Evaluation.id)).scalars())


def save_mapping(course: Course, lessons: dict[int, int | None], evaluations: dict[int, int | None]) -> None:
    """Put each lesson and evaluation in a module (None: in none). Ids of other courses are ignored."""
    settings = settings_of(course)
    modules = {module.id: module for module in settings.modules}
    own_lessons = {lesson.id for lesson in course.lessons}
    own_evaluations = {evaluation.id for evaluation in course_evaluations(course.id)}
    for module in modules.values():
        module.lessons = [SicModuleLesson(lesson_id=lid) for lid, mid in lessons.items()
                          if mid == module.id and lid in own_lessons]
        module.evaluations = [SicModuleEvaluation(evaluation_id=eid) for eid, mid in evaluations.items()
                              if mid == module.id and eid in own_evaluations]
    db.session.flush()
    db.session.commit()


def mapping_of(course: Course) -> tuple[dict[int, int], dict[int, int]]:
    """lesson id -> module id, evaluation id -> module id."""
    settings = settings_of(course)
    lessons = {row.lesson_id: module.id for module in settings.modules for row in module.lessons}
    evaluations = {row.evaluation_id: module.id for module in settings.modules for row in module.evaluations}
    return lessons, evaluations


# --- The "revisar" check ----------------------------------------------------------------------------------


def problems(course: Course) -> list[str]:
    """Why this course cannot send its progress to SIC now (admin wording); empty when ready."""
    settings = settings_of(course)
    found = []
    if not settings.codigo_oferta:
        found.append("Falta el código del curso (codigoOferta) de sicadministrativo.sence.cl.")
    if not settings.codigo_grupo:
        found.append("Falta el código de la sección (codigoGrupo).")
    found += _otec_problems(course)
    if not settings.modules:
        found.append("El curso necesita al menos un módulo SIC.")
    for module in settings.modules:
        if not module.lessons and not module.evaluations:
            found.append(f"El módulo {module.codigo} no tiene lecciones ni evaluaciones asignadas.")
    if course.start_date is None or course.end_date is None:
        found.append("El curso necesita fechas de inicio y término (pestaña «Datos»).")
    elif course.end_date < course.start_date:
        found.append("La fecha de término del curso es anterior a la de inicio.")
    if not current_app.config.get(BASE_URL_SETTINGS[settings.environment]):
        found.append(f"Falta la dirección {BASE_URL_SETTINGS[settings.environment]} en la configuración.")
    participants = _participants(course.id)
    if not participants:
        found.append("El curso no tiene participantes que informar.")
    without_run = [user.full_name for user in participants if not user.run]
    if without_run:
        found.append("Participantes sin RUN (no se informan): " + ", ".join(without_run[:10]) + ".")
    return found


def _otec_problems(course: Course) -> list[str]:
    sence = course.sence
    if sence is None or sence.otec is None:
        return ["El curso no tiene OTEC asignado (pestaña «SENCE»): su RUT y token identifican el envío."]
    if usable_token(sence.otec_id) is None:
        return [f"El OTEC «{sence.otec.name}» no tiene un token SENCE activo y vigente."]
    return []


# --- Participants' actions (dedication time) --------------------------------------------------------------


def record_action(user_id: int, course_id: int, *, lesson_id: int | None = None, material_id: int | None = None,
                  evaluation_id: int | None = None, now: datetime | None = None) -> None:
    """One INSERT ... SELECT: written only when the course has SIC on, with ids checked against the course, all
    in the same statement (no extra round trip to find out)."""
    lesson = None
    if material_id is not None:
        lesson = (select(Material.lesson_id).join(Lesson, Lesson.id == Material.lesson_id)
                  .where(Material.id == material_id, Lesson.course_id == course_id).scalar_subquery())
    elif lesson_id is not None:
        lesson = select(Lesson.id).where(Lesson.id == lesson_id, Lesson.course_id == course_id).scalar_subquery()
    evaluation = None
    if evaluation_id is not None:
        evaluation = (select(Evaluation.id).where(Evaluation.id == evaluation_id, Evaluation.course_id == course_id)
                      .scalar_subquery())
    db.session.execute(insert(SicAction).from_select(
        ["course_id", "user_id", "lesson_id", "evaluation_id", "at"],
        select(CourseSic.course_id, literal(user_id, Integer), lesson if lesson is not None else null(),
               evaluation if evaluation is not None else null(), literal(now or utcnow(), UTCDateTime()))
        .where(CourseSic.course_id == course_id, CourseSic.enabled.is_(True))))
    db.session.commit()


def excluded_from_sic(user_id: int) -> bool:
    """THE single place where a participant is left out of the payload: a person who asked to block the
    processing of their data (Ley 21.719) is not reported to SENCE while the block lasts."""
    from app.privacy.service import is_blocked

    return is_blocked(user_id)


def _participants(course_id: int) -> list[User]:
    rows = db.session.execute(
        select(User).join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id == course_id, User.role == "participant", User.active.is_(True))
        .order_by(User.full_name, User.id)
    ).scalars().all()
    return [user for user in rows if not excluded_from_sic(user.id)]


# --- Collecting what to send ------------------------------------------------------------------------------


@dataclass
class Collected:
    progress: protocol.CourseProgress
    users: dict[str, User]  # rut number (no DV) -> participant


def collect(course: Course, token: str, now: datetime) -> Collected:
    """Pizarra's data in the instructivo's terms, for every participant with a valid RUN."""
    settings = settings_of(course)
    lesson_module, evaluation_module = mapping_of(course)
    modules = list(settings.modules)
    lesson_titles = {lesson.id: lesson.title for lesson in course.lessons}  # in course order
    lesson_order = {lesson_id: index for index, lesson_id in enumerate(lesson_titles)}
    evaluations = {e.id: e for e in course_evaluations(course.id)}
    statuses = course_statuses(course.id, now=now)
    results = counted_results(course.id, now=now)
    completed = _completed_lessons(course.id)
    actions = _actions(course.id)
    accepted = _accepted(course.id)
    progress = protocol.CourseProgress(
        rut_otec=course.sence.otec.rut, token=token, codigo_oferta=settings.codigo_oferta,
        codigo_grupo=settings.codigo_grupo, codigo_envio=f"PIZARRA-{course.id}-{today_in_chile(now):%Y%m%d}",
        start=course.start_date, end=course.end_date)
    users = {}
    for user in _participants(course.id):
        if not user.run:
            continue
        keyed = [(at, lesson_module.get(lid) if lid else evaluation_module.get(eid)) for at, lid, eid in
                 actions.get(user.id, [])]
        seconds, per_module = protocol.dedication(keyed)
        status = statuses.get(user.id)
        student_modules = []
        for module in modules:
            lesson_ids = sorted((lid for lid, mid in lesson_module.items() if mid == module.id),
                                key=lambda lid: lesson_order.get(lid, 0))
            evaluation_ids = sorted(eid for eid, mid in evaluation_module.items()  # a draft is not an activity yet
                                    if mid == module.id and eid in evaluations and evaluations[eid].published)
            mine = [results.get((user.id, eid)) for eid in evaluation_ids]
            grades = [(Decimal(r.grade), Decimal(evaluations[eid].weight)) for eid, r in zip(evaluation_ids, mine,
                      strict=True) if r is not None and r.grade is not None]
            student_modules.append(protocol.ModuleProgress(
                codigo=module.codigo, seconds=per_module.get(module.id, 0),
                activities=[lesson_titles[lid] for lid in lesson_ids if lid in lesson_titles]
                + [evaluations[eid].title for eid in evaluation_ids],
                completed=len(completed.get(user.id, set()) & set(lesson_ids)) + sum(r is not None for r in mine),
                grade=weighted_average(grades) if grades else None,
                accepted_percent=accepted.get((user.id, module.codigo), 0)))
        progress.students.append(protocol.StudentProgress(
            run=user.run, seconds=seconds, status=status.status if status else "cursando",
            final_grade=status.final_grade if status else None, modules=student_modules,
            accepted_percent=accepted.get((user.id, ""), 0)))
        users[user.run.split("-")[0]] = user
    return Collected(progress, users)


def _completed_lessons(course_id: int) -> dict[int, set[int]]:
    rows = db.session.execute(select(LessonProgress.user_id, LessonProgress.lesson_id)
                              .where(LessonProgress.course_id == course_id)).all()
    done: dict[int, set[int]] = {}
    for user_id, lesson_id in rows:
        done.setdefault(user_id, set()).add(lesson_id)
    return done


def _actions(course_id: int) -> dict[int, list]:
    rows = db.session.execute(select(SicAction.user_id, SicAction.at, SicAction.lesson_id, SicAction.evaluation_id)
                              .where(SicAction.course_id == course_id).order_by(SicAction.user_id, SicAction.at))
    actions: dict[int, list] = {}
    for user_id, at, lesson_id, evaluation_id in rows:
        actions.setdefault(user_id, []).append((at, lesson_id, evaluation_id))
    return actions


def _accepted(course_id: int) -> dict[tuple[int, str], int]:
    rows = db.session.execute(select(SicAccepted).where(SicAccepted.course_id == course_id)).scalars()
    return {(row.user_id, row.module): row.percent for row in rows}


def dry_run(course: Course, now: datetime | None = None) -> tuple[dict | None, list[str]]:
    """The JSON that would be sent now, with the token masked, or the problems that stop it."""
    now = now or utcnow()
    found = problems(course)
    if found:
        return None, found
    token = tokens.decrypt(usable_token(course.sence.otec_id).token_encrypted)
    payload = protocol.build_payload(collect(course, token, now).progress, today_in_chile(now))
    return protocol.mask_token(payload), []


# --- Sending ----------------------------------------------------------------------------------------------


def base_url(environment: str) -> str:
    return (current_app.config.get(BASE_URL_SETTINGS.get(environment, ""), "") or "").rstrip("/")


def send_course(course: Course, trigger: str, *, user: User | None = None, now: datetime | None = None) -> SicSend:
    """Build, send and log one course's progress; alert the OTEC when it failed or SENCE rejected anyone."""
    now = now or utcnow()
    settings = settings_of(course)
    record = SicSend(course_id=course.id, trigger=trigger, user_id=user.id if user else None,
                     environment=settings.environment, url=base_url(settings.environment) + protocol.SEND_PATH,
                     started_at=now, status="failed")
    found = problems(course)
    if found:
        record.error = "No se envió: " + " ".join(found)
        return _finish(course, record)
    try:
        token = tokens.decrypt(usable_token(course.sence.otec_id).token_encrypted)
    except tokens.TokenKeyError as err:
        record.error = f"No se envió: {err}"
        return _finish(course, record)
    collected = collect(course, token, now)
    payload = protocol.build_payload(collected.progress, today_in_chile(now))
    record.request_body = protocol.mask_token(payload)
    record.participants = len(payload["listaAlumnos"])
    db.session.commit()  # no transaction stays open during a call that may last ten minutes
    response = _post(record, payload)
    if response is not None:
        _read_answer(record, response, payload, collected, now)
    return _finish(course, record)


def _network_problem(err: requests.RequestException) -> str:
    """The OTEC reads this on its SIC pages: in Spanish, not the exception's class name."""
    if isinstance(err, requests.Timeout):
        return "no respondió a tiempo"
    if isinstance(err, requests.ConnectionError):
        return "no se pudo conectar"
    return "error de red"


def _post(record: SicSend, payload: dict) -> requests.Response | None:
    """POST with the instructivo's long timeout; network errors and 5xx are retried, waiting between tries."""
    config = current_app.config
    tries, wait = int(config.get("SIC_RETRIES", 3)), float(config.get("SIC_RETRY_WAIT_SECONDS", 30))
    timeout = (float(config.get("SIC_CONNECT_TIMEOUT_SECONDS", 30)),
               float(config.get("SIC_TIMEOUT_SECONDS", protocol.TIMEOUT_SECONDS)))
    for number in range(1, tries + 1):
        record.tries = number
        try:
            response = requests.post(record.url, json=payload, timeout=timeout,
                                     headers={"Content-Type": "application/json"})
        except requests.RequestException as err:
            record.error = f"Sin respuesta de SENCE ({_network_problem(err)}) tras {number} intento(s)."
        else:
            record.http_status = response.status_code
            if response.status_code < 500:
                record.error = ""
                return response
            record.error = f"SENCE respondió HTTP {response.status_code} tras {number} intento(s)."
        if number < tries:
            time.sleep(wait * number)
    return None


def _read_answer(record: SicSend, response: requests.Response, payload: dict, collected: Collected,
                 now: datetime) -> None:
    text = response.text[:RESPONSE_CAP]
    record.response_text = text
    answer = protocol.parse_send_answer(text)
    if response.status_code != 200 or not answer.ok:
        record.error = f"Respuesta de SENCE ilegible (HTTP {response.status_code})."
        return
    record.id_proceso = answer.id_proceso
    record.rejections = [_rejection_row(r, collected.users) for r in answer.rejections]
    if answer.whole_send_rejected:
        record.status = "rejected"
        return
    rejected = answer.rejected_ruts()
    record.rejected = len(rejected)
    record.status = "partial" if rejected else "accepted"
    _keep_accepted(record.course_id, payload, collected.users, rejected, now)


def _rejection_row(rejection: protocol.Rejection, users: dict[str, User]) -> dict:
    user = users.get(rejection.rut)
    error = rejection.error
    return {"rut": rejection.rut, "name": user.full_name if user else "", "run": user.run if user else "",
            "code": error.code, "message": rejection.message, "meaning": error.meaning, "fix": error.fix}


def _keep_accepted(course_id: int, payload: dict, users: dict[str, User], rejected: set[str],
                   now: datetime) -> None:
    """Remember what SENCE accepted, per participant and module: later sends never go below it."""
    for student in payload["listaAlumnos"]:
        rut = str(student["rutAlumno"])
        user = users.get(rut)
        if user is None or rut in rejected:
            continue
        values = [("", student["porcentajeAvance"])] + [(m["codigoModulo"], m["porcentajeAvance"])
                                                         for m in student["listaModulos"]]
        for module, value in values:
            row = db.session.get(SicAccepted, (course_id, user.id, module))
            if row is None:
                db.session.add(SicAccepted(course_id=course_id, user_id=user.id, module=module, percent=value,
                                           accepted_at=now))
            elif value > row.percent:
                row.percent, row.accepted_at = value, now


def _finish(course: Course, record: SicSend) -> SicSend:
    record.finished_at = utcnow()
    db.session.add(record)
    db.session.flush()
    if record.status != "accepted":
        _alert(course, record)
    db.session.commit()
    return record


def _alert(course: Course, record: SicSend) -> None:
    recipients = course.sence.alert_email_list if course.sence is not None else []
    if not recipients:
        return
    label = STATUS_LABELS.get(record.status, record.status)
    subject = f"SIC: envío {label.lower()} en «{course.title}»"
    body = current_app.jinja_env.get_template("sic/mail/alert.txt").render(
        course=course, send=record, label=label, at=format_chile(record.started_at, "%d-%m-%Y %H:%M"),
        environment=ENVIRONMENT_LABELS.get(record.environment, record.environment),
        link=_log_link(course.id))
    enqueue("sic", recipients, subject, body, course_id=course.id, context={"sic_send_id": record.id})


def _log_link(course_id: int) -> str:
    path = current_app.url_map.bind("localhost").build("sic.course_log", {"course_id": course_id})
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


# --- The daily sweep --------------------------------------------------------------------------------------


@dataclass
class SendSummary:
    course: Course
    send: SicSend

    def line(self) -> str:
        s = self.send
        text = f"curso {self.course.id} «{self.course.title}»: {STATUS_LABELS.get(s.status, s.status)}"
        if s.id_proceso:
            text += f" (proceso {s.id_proceso})"
        text += f", {s.participants} participantes, {s.rejected} rechazados"
        return text + (f". {s.error}" if s.error else "")


@dataclass
class SweepSic:
    sends: list[SendSummary] = field(default_factory=list)
    skipped: str = ""


def claim_due(today: date, *, course_id: int | None = None, force: bool = False) -> list[int]:
    """Mark the courses to send today and return their ids; a course another sweep holds or sent is skipped.

    PostgreSQL: rows another sweep has locked are skipped (SKIP LOCKED). SQLite has no row locks: the
    conditional UPDATE, run under its single writer lock, is what lets only one sweep claim a course.
    """
    query = (select(CourseSic.course_id).join(Course, Course.id == CourseSic.course_id)
             .where(CourseSic.enabled.is_(True)).order_by(CourseSic.course_id)
             .with_for_update(skip_locked=True, of=CourseSic))
    if course_id is not None:
        query = query.where(CourseSic.course_id == course_id)
    if not force:
        query = query.where(_not_sent(today), Course.start_date <= today, Course.end_date >= today - AFTER_END)
    claimed = []
    for candidate in db.session.execute(query).scalars().all():
        mark = update(CourseSic).where(CourseSic.course_id == candidate).values(last_sent_on=today)
        if force or db.session.execute(mark.where(_not_sent(today))).rowcount == 1:
            if force:
                db.session.execute(mark)
            claimed.append(candidate)
    db.session.commit()
    return claimed


def _not_sent(today: date):
    return or_(CourseSic.last_sent_on.is_(None), CourseSic.last_sent_on < today)


def sweep(now: datetime | None = None, *, course_id: int | None = None, force: bool = False,
          trigger: str = "sweep") -> SweepSic:
    """Send every due course once a day inside 22:00-00:00 Chile time; `force` ignores the window and the mark."""
    now = now or utcnow()
    result = SweepSic()
    if not force and not protocol.in_send_window(now):
        result.skipped = "Fuera del horario de envío SIC (22:00 a 00:00, hora de Chile)."
        return result
    for claimed_id in claim_due(today_in_chile(now), course_id=course_id, force=force):
        course = db.session.get(Course, claimed_id)
        try:
            record = send_course(course, trigger, now=now)
        except Exception:  # one course's surprise must not stop the others' sends
            log.exception("SIC send of course %s failed", claimed_id)
            db.session.rollback()
            record = _finish(course, SicSend(course_id=course.id, trigger=trigger, environment="", url="",
                                             started_at=now, status="failed",
                                             error="Error inesperado de Pizarra al preparar el envío."))
        result.sends.append(SendSummary(course, record))
    return result


# --- Log and history --------------------------------------------------------------------------------------

LOG_LIMIT = 60


def sends_of(course_id: int) -> list[SicSend]:
    return list(db.session.execute(
        select(SicSend).where(SicSend.course_id == course_id)
        .order_by(SicSend.started_at.desc(), SicSend.id.desc()).limit(LOG_LIMIT)).scalars())


@dataclass
class History:
    processes: list[dict] = field(default_factory=list)
    error: str = ""


def history(course: Course, fecha_desde: date | None = None) -> History:
    """SENCE's historialEnvios for the OTEC, narrowed to this course's records (p. 40)."""
    found = _otec_problems(course)
    if found:
        return History(error=" ".join(found))
    settings = settings_of(course)
    token = tokens.decrypt(usable_token(course.sence.otec_id).token_encrypted)
    params = protocol.history_params(course.sence.otec.rut, token, fecha_desde=fecha_desde)
    url = base_url(settings.environment) + protocol.HISTORY_PATH
    try:
        response = requests.get(url, params=params, timeout=(30, float(current_app.config.get(
            "SIC_HISTORY_TIMEOUT_SECONDS", 120))))
    except requests.RequestException as err:
        return History(error=f"No se pudo consultar el historial en SENCE ({_network_problem(err)}).")
    processes = protocol.parse_history(response.text)
    if processes is None:
        return History(error=f"SENCE no entregó el historial (HTTP {response.status_code}): "
                             f"{protocol.history_error(response.text)}")
    mine = []
    for process in processes:
        records = [r for r in process.get("listaregistros") or [] if isinstance(r, dict)
                   and r.get("oferta_cod") == settings.codigo_oferta]
        if records or not process.get("listaregistros"):
            mine.append({**process, "listaregistros": records})
    return History(processes=mine)

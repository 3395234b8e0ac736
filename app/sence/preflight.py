"""«Revisar antes de empezar»: every problem Pizarra can see in a SENCE course before its first day.

Wrong codes are the most reported problem against SENCE integrations, and without this check the first
to find them is a participant, on day 1, with an error page. The rules are pure functions over plain
facts (``CourseFacts``), so they can be read and tested alone; ``facts_for`` gathers those facts from
the database (a fixed number of queries for any number of courses, for the admin course list).
The protocol rules themselves (lengths, codes, check digits) come from ``app.sence.protocol``.
"""

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.courses.models import Enrollment
from app.extensions import db
from app.sence import protocol, tokens
from app.sence.models import SenceToken
from app.timeutil import today_in_chile

MAX_NAMED = 5  # participants named in one problem; the rest are counted


@dataclass(frozen=True)
class Problem:
    area: str  # what to fix: "OTEC y token", "Códigos", "Fechas", "Participantes", ...
    message: str  # Spanish, for the OTEC's staff
    code: int | None = None  # the SENCE error it would cause, when there is one


@dataclass
class TokenFacts:
    well_formed: bool  # False also when it cannot be decrypted
    usable_today: bool  # not revoked, not expired
    expires_on: date | None = None


@dataclass
class CourseFacts:
    has_settings: bool
    environment: str = "simulator"
    linea: int = 3
    cod_sence: str = ""
    codigo_curso: str = ""
    login_required: bool = True
    otec_name: str | None = None
    otec_rut: str | None = None
    tokens: list[TokenFacts] = field(default_factory=list)
    start_date: date | None = None
    end_date: date | None = None
    hours: float = 0.0
    participants: list[tuple[str, str | None]] = field(default_factory=list)  # (full name, RUN)
    return_url_problems: list[str] = field(default_factory=list)
    installation_env: str = "development"  # PIZARRA_ENV
    simulator_url: str = ""


def review(facts: CourseFacts, today: date) -> list[Problem]:
    """Every problem found, in the order an OTEC would fix them."""
    if not facts.has_settings:
        return [Problem("Configuración", "El curso no tiene configuración SENCE.")]
    return [*_environment(facts), *_otec_and_token(facts, today), *_codes(facts), *_return_urls(facts),
            *_dates(facts, today), *_hours(facts), *_participants(facts), *_rules(facts)]


def _environment(facts: CourseFacts) -> list[Problem]:
    """A course off production records nothing at SENCE: before day 1 that is a problem, not a detail."""
    if facts.environment == "production":
        return []
    if facts.environment == "simulator" and facts.installation_env == "production":
        return [Problem("Ambiente", "El curso está en el simulador y esta instalación está en producción: "
                                    "los participantes no llegarían a SENCE.")]
    label = "el simulador" if facts.environment == "simulator" else "el ambiente de pruebas de SENCE (rcetest)"
    return [Problem("Ambiente", f"El curso está en {label}: no registra asistencia real. "
                                "Pásalo a producción antes del primer día.")]


def _otec_and_token(facts: CourseFacts, today: date) -> list[Problem]:
    if facts.otec_rut is None:
        return [Problem("OTEC y token", "No hay OTEC asignado al curso.")]
    problems = [Problem("OTEC y token", message, code)
                for _, code, message in protocol.validate_rut_otec(facts.otec_rut)]
    if not facts.tokens:
        return [*problems, Problem("OTEC y token", f"El OTEC «{facts.otec_name}» no tiene token SENCE.", 200)]
    if not any(t.well_formed for t in facts.tokens):
        return [*problems, Problem("OTEC y token", "El token del OTEC no es un UUID de 36 caracteres "
                                   "(o no se puede descifrar): regístralo de nuevo.", 303)]
    usable = [t for t in facts.tokens if t.well_formed and t.usable_today]
    if not usable:
        problems.append(Problem("OTEC y token", f"El OTEC «{facts.otec_name}» no tiene un token activo y vigente.",
                                212))
    elif facts.end_date and all(t.expires_on and t.expires_on <= facts.end_date for t in usable):
        last = max(t.expires_on for t in usable)
        problems.append(Problem("OTEC y token", f"El token vence el {last:%d-%m-%Y}, antes de que termine el "
                                "curso: agrega uno que siga vigente.", 212))
    return problems


def _codes(facts: CourseFacts) -> list[Problem]:
    problems = [Problem("Códigos", message, code) for _, code, message in protocol.validate_course_codes(
        facts.linea, facts.cod_sence, facts.codigo_curso, facts.environment)]
    placeholder = protocol.PLACEHOLDER in (facts.cod_sence, facts.codigo_curso)
    if placeholder and facts.environment == "simulator" and not facts.simulator_url.rstrip("/").endswith("/rcetest"):
        problems.append(Problem("Códigos", "El simulador está configurado como producción (SENCE_SIMULATOR_URL "
                                "termina en /rce): «-1» sólo se acepta bajo /rcetest.", 204))
    return problems


def _return_urls(facts: CourseFacts) -> list[Problem]:
    return [Problem("URL de retorno", message, 202) for message in facts.return_url_problems]


def _dates(facts: CourseFacts, today: date) -> list[Problem]:
    """SENCE answers 309 outside the execution dates it was told and 310 once the course is over."""
    if not facts.start_date or not facts.end_date:
        return [Problem("Fechas", "El curso no tiene fecha de inicio y de término: indícalas como las "
                                  "comunicaste a SENCE.")]
    if facts.end_date < facts.start_date:
        return [Problem("Fechas", "La fecha de término es anterior a la de inicio.", 309)]
    if facts.end_date < today:
        return [Problem("Fechas", f"El curso terminó el {facts.end_date:%d-%m-%Y}: SENCE ya no registrará "
                                  "sesiones.", 309)]
    return []


def _hours(facts: CourseFacts) -> list[Problem]:
    if facts.hours > 0:
        return []
    return [Problem("Fechas", "El curso no tiene horas: no se puede calcular la conectividad de nadie.")]


def _participants(facts: CourseFacts) -> list[Problem]:
    if not facts.participants:
        return [Problem("Participantes", "El curso no tiene participantes inscritos.")]
    missing = [name for name, run in facts.participants if not run]
    invalid = [name for name, run in facts.participants if run and not protocol.is_sence_run(run)]
    problems = []
    if missing:
        problems.append(Problem("Participantes", f"Sin RUN: {_names(missing)}. SENCE identifica a cada "
                                "participante por su RUN.", 200))
    if invalid:
        problems.append(Problem("Participantes", f"RUN no válido: {_names(invalid)}.", 207))
    return problems


def _rules(facts: CourseFacts) -> list[Problem]:
    if facts.login_required:
        return []
    return [Problem("Reglas", "El contenido no exige sesión SENCE: los participantes pueden estudiar sin "
                              "registrar asistencia.")]


def _names(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:MAX_NAMED])
    rest = len(names) - MAX_NAMED
    return shown + (f" y {rest} más" if rest > 0 else "")


# --- Facts from the database -----------------------------------------------------------------


def facts_for(courses, return_url_problems: list[str]) -> dict[int, CourseFacts]:
    """CourseFacts per course id, with three queries whatever the number of courses."""
    courses = list(courses)
    today = today_in_chile()
    otec_ids = {c.sence.otec_id for c in courses if c.sence and c.sence.otec_id}
    token_rows = db.session.execute(select(SenceToken).where(SenceToken.otec_id.in_(otec_ids))).scalars() \
        if otec_ids else []
    by_otec: dict[int, list[TokenFacts]] = {}
    for row in token_rows:
        by_otec.setdefault(row.otec_id, []).append(_token_facts(row, today))
    people: dict[int, list[tuple[str, str | None]]] = {c.id: [] for c in courses}
    if courses:
        rows = db.session.execute(
            select(Enrollment.course_id, User.full_name, User.run).join(User, User.id == Enrollment.user_id)
            .where(Enrollment.course_id.in_(people), User.role == "participant")
        )
        for course_id, name, run in rows:
            people[course_id].append((name, run))
    return {c.id: _course_facts(c, by_otec, people[c.id], return_url_problems) for c in courses}


def _token_facts(row: SenceToken, today: date) -> TokenFacts:
    try:
        well_formed = protocol.is_token_well_formed(tokens.decrypt(row.token_encrypted))
    except tokens.TokenKeyError:
        well_formed = False
    return TokenFacts(well_formed, tokens.is_usable(row, today), row.expires_on)


def _course_facts(course, by_otec, participants, return_url_problems) -> CourseFacts:
    settings = course.sence
    if settings is None:
        return CourseFacts(has_settings=False)
    otec = settings.otec
    return CourseFacts(
        has_settings=True, environment=settings.environment, linea=settings.linea, cod_sence=settings.cod_sence,
        codigo_curso=settings.codigo_curso, login_required=settings.login_required,
        otec_name=otec.name if otec else None, otec_rut=otec.rut if otec else None,
        tokens=by_otec.get(settings.otec_id, []), start_date=course.start_date, end_date=course.end_date,
        hours=float(course.hours or 0), participants=participants, return_url_problems=return_url_problems,
        installation_env=current_app.config["ENV"], simulator_url=current_app.config["SENCE_SIMULATOR_URL"],
    )


def review_courses(courses, return_url_problems: list[str]) -> dict[int, list[Problem]]:
    today = today_in_chile()
    return {course_id: review(facts, today) for course_id, facts in facts_for(courses, return_url_problems).items()}

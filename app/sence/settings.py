"""OTEC staff rules for SENCE settings: OTECs, their tokens, a course's codes. Each function commits."""

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.sence import tokens
from app.sence.forms import DEFAULT_TARGET, split_emails
from app.sence.models import CourseSence, Exchange, Otec, SenceToken
from app.timeutil import today_in_chile, utcnow


class RuleError(ValueError):
    """The change was refused; `str()` is a Spanish message and nothing was stored."""


def otecs() -> list[Otec]:
    return list(db.session.execute(select(Otec).order_by(Otec.name)).scalars())


def save_otec(otec: Otec | None, name: str, rut: str) -> Otec:
    other = db.session.execute(select(Otec).where(Otec.rut == rut)).scalar_one_or_none()
    if other is not None and other is not otec:
        raise RuleError(f"Ya existe un OTEC con el RUT {rut}.")
    if otec is None:
        otec = Otec()
        db.session.add(otec)
    otec.name, otec.rut = name.strip(), rut
    db.session.commit()
    return otec


def add_token(otec: Otec, token: str, label: str = "", expires_on=None) -> SenceToken:
    """Store a token encrypted; the same token twice in one OTEC is refused (Fernet output differs each time)."""
    token = token.strip().upper()  # stored in one spelling: the manual's examples and SENCE's rts are upper case
    for existing in otec.tokens:
        if existing.revoked_at is None and tokens.decrypt(existing.token_encrypted).lower() == token.lower():
            raise RuleError(f"Ese token ya está registrado ({existing.hint}).")
    row = SenceToken(otec=otec, label=(label or "").strip(), token_encrypted=tokens.encrypt(token),
                     hint=tokens.mask(token), expires_on=expires_on, added_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def revoke_token(token: SenceToken) -> None:
    """Retire a token; attempts that used it keep pointing at it, so history never breaks."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()


def token_rows(otec: Otec) -> list[tuple[SenceToken, str]]:
    today = today_in_chile()
    return [(token, tokens.status_of(token, today)) for token in reversed(otec.tokens)]


def default_environment() -> str:
    """New courses start on the simulator while developing, on SENCE's test environment in production
    (where the simulator is refused: it is not reachable by participants and records nothing)."""
    return "test" if current_app.config["ENV"] == "production" else "simulator"


def new_course_settings() -> CourseSence:
    return CourseSence(environment=default_environment())


def settings_of(course) -> CourseSence:
    if course.sence is None:
        course.sence = new_course_settings()
        db.session.flush()
    return course.sence


def save_course_settings(course, data: dict) -> CourseSence:
    """Apply the validated form data (CourseSenceForm.data); group ids are limited to the course's groups."""
    settings = settings_of(course)
    own_groups = {group.id for group in course.groups}
    settings.otec_id = data["otec_id"] or None
    settings.linea = data["linea"]
    settings.cod_sence = (data["cod_sence"] or "").strip()
    settings.codigo_curso = (data["codigo_curso"] or "").strip()
    settings.environment = data["environment"]
    settings.login_required = bool(data["login_required"])
    settings.session_limit_minutes = data["session_limit_minutes"]
    settings.modality = data["modality"]
    target = data.get("connectivity_target")
    settings.connectivity_target = DEFAULT_TARGET[settings.modality] if target is None else target
    settings.alert_emails = "\n".join(split_emails(data.get("alert_emails")))
    settings.exempt_group_ids = sorted(gid for gid in data.get("exempt_group_ids") or [] if gid in own_groups)
    db.session.commit()
    return settings


# --- The course's log (admin) ----------------------------------------------------------------

LOG_LIMIT = 200


def unmatched_exchanges() -> list[Exchange]:
    """Answers that named no known attempt (forged, mistyped or from another platform)."""
    return list(db.session.execute(
        select(Exchange).where(Exchange.attempt_id.is_(None)).order_by(Exchange.at.desc(), Exchange.id.desc())
        .limit(LOG_LIMIT)
    ).scalars())

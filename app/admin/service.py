"""OTEC staff rules: courses, users, enrolment and CSV import. Each public function is one transaction."""

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from app.admin import csv_import
from app.auth import reset
from app.auth.models import User
from app.courses.models import Course, Enrollment, Group
from app.extensions import db
from app.sence.settings import new_course_settings


class RuleError(ValueError):
    """A business rule refused the change; `str()` is a Spanish message and nothing was stored."""


def create_course(data: dict, instructors: list[User]) -> Course:
    course = Course(**data)
    course.instructors = instructors
    course.sence = new_course_settings()
    db.session.add(course)
    db.session.commit()
    return course


def update_course(course: Course, data: dict, instructors: list[User]) -> None:
    for key, value in data.items():
        setattr(course, key, value)
    course.instructors = instructors
    db.session.commit()


def user_by_run(run: str) -> User | None:
    return db.session.execute(select(User).where(User.run == run)).scalar_one_or_none()


def user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one_or_none()


def _check_unique(run: str | None, email: str | None, user: User | None = None) -> None:
    if run:
        other = user_by_run(run)
        if other is not None and other is not user:
            raise RuleError(f"Ya existe un usuario con el RUN {run}.")
    if email:
        other = user_by_email(email)
        if other is not None and other is not user:
            raise RuleError(f"Ya existe un usuario con el correo {email}.")


def create_user(*, role: str, full_name: str, email: str | None, run: str | None, phone: str | None = None,
                mobile: str | None = None, password: str, must_change_password: bool = False) -> User:
    """`must_change_password` when someone other than the owner chose it (staff creating the account)."""
    if role == "participant" and not run:
        raise RuleError("Un participante debe tener RUN.")
    if role != "participant" and not email:
        raise RuleError("El personal de la OTEC ingresa con su correo: ingresa uno.")
    _check_unique(run, email)
    user = User(role=role, full_name=full_name, email=email or None, run=run or None, phone=phone, mobile=mobile,
                must_change_password=must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def update_user(user: User, *, full_name: str, email: str | None, run: str | None, phone: str | None,
                mobile: str | None, active: bool, password: str | None) -> None:
    if user.role == "participant" and not run:
        raise RuleError("Un participante debe tener RUN.")
    _check_unique(run, email, user)
    user.full_name, user.email, user.run = full_name, email or None, run or None
    if user.active and not active:
        user.end_sessions()  # a deactivated account's cookies must not work again if it is reactivated
    user.phone, user.mobile, user.active = phone, mobile, active
    if password:  # staff chose it: the owner replaces it at the next sign-in, signed out everywhere until then
        user.set_password(password)
        user.must_change_password = True
        user.end_sessions()
    db.session.commit()


def end_sessions(user: User) -> None:
    """"Cerrar sesiones": every browser signed in as the user is signed out at its next request."""
    user.end_sessions()
    db.session.commit()


def force_password_reset(user: User) -> bool:
    """Sign the user out everywhere, require a new password at the next sign-in and e-mail a reset link.

    Returns whether a link was queued (not without an e-mail address).
    """
    user.must_change_password = True
    user.end_sessions()
    queued = reset.queue_reset(user)
    db.session.commit()
    return queued


def enroll(course: Course, user: User, group: Group | None = None) -> Enrollment:
    """Enrol a participant once; enrolling again only changes the group."""
    if user.role != "participant":
        raise RuleError(f"{user.full_name} no es participante: el personal no se inscribe en cursos.")
    enrollment = db.session.execute(
        select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.user_id == user.id)
    ).scalar_one_or_none()
    if enrollment is None:
        enrollment = Enrollment(course=course, user=user)
        db.session.add(enrollment)
    if group is not None:
        enrollment.group = group
    db.session.commit()
    return enrollment


def unenroll(enrollment: Enrollment) -> None:
    db.session.delete(enrollment)
    db.session.commit()


def create_group(course: Course, name: str) -> Group:
    name = name.strip()
    if not name:
        raise RuleError("Escribe un nombre para el grupo.")
    if any(g.name.lower() == name.lower() for g in course.groups):
        raise RuleError(f"El grupo «{name}» ya existe en este curso.")
    group = Group(course=course, name=name)
    db.session.add(group)
    db.session.commit()
    return group


def set_group(enrollment: Enrollment, group: Group | None) -> None:
    enrollment.group = group
    db.session.commit()


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    enrolled_existing: list[str] = field(default_factory=list)
    already_enrolled: list[str] = field(default_factory=list)
    rejected: list[csv_import.Rejected] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return len(self.created) + len(self.enrolled_existing)


def import_participants(course: Course, data: bytes, initial_password: str, invite: bool = False) -> ImportReport:
    """Validate every row first, then import all valid rows in one transaction.

    New participants get the shared initial password and must replace it at their first sign-in; with
    `invite`, those with an e-mail address also get an invitation to choose their own (through the outbox).

    Raises csv_import.UnreadableFile (nothing imported) when the file itself cannot be read.
    """
    parsed = csv_import.parse(data)
    report = ImportReport(rejected=list(parsed.rejected))
    enrolled = set(db.session.execute(
        select(Enrollment.user_id).where(Enrollment.course_id == course.id)
    ).scalars())
    for row in parsed.rows:
        user = user_by_run(row.run)
        reason = _row_conflict(row, user)
        if reason:
            report.rejected.append(csv_import.Rejected(row.line, row.run, reason))
            continue
        if user is None:
            user = _new_participant(row, initial_password)
            report.created.append(row.run)
            if invite and reset.queue_invitation(user):
                report.invited.append(row.run)
        elif user.id in enrolled:
            report.already_enrolled.append(row.run)
            _fill_blanks(user, row)
            continue
        else:
            _fill_blanks(user, row)
            report.enrolled_existing.append(row.run)
        db.session.add(Enrollment(course=course, user=user))
        enrolled.add(user.id)
    report.rejected.sort(key=lambda r: r.line)
    db.session.commit()
    return report


def _row_conflict(row: csv_import.Row, user: User | None) -> str | None:
    if user is not None and user.role != "participant":
        return f"El RUN {row.run} pertenece a un usuario del personal ({user.role_label})."
    if row.email:
        other = user_by_email(row.email)
        if other is not None and other is not user:
            return f"El correo {row.email} ya pertenece a otro usuario."
    return None


def _new_participant(row: csv_import.Row, password: str) -> User:
    user = User(role="participant", run=row.run, full_name=row.full_name, email=row.email,
                phone=row.phone, mobile=row.mobile, must_change_password=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def _fill_blanks(user: User, row: csv_import.Row) -> None:
    """An existing participant keeps their data; the file only fills what is missing."""
    user.email = user.email or row.email
    user.phone = user.phone or row.phone
    user.mobile = user.mobile or row.mobile


# --- Lists with search (issue 11): an OTEC has thousands of participants over a year -----------------

PER_PAGE = 50


def matching_people(query, text: str):
    """Narrow a query already joined to User to names, RUNs (with or without dots) or e-mails containing `text`."""
    text = (text or "").strip()
    if not text:
        return query
    pattern = f"%{text}%"
    run_pattern = f"%{text.replace('.', '').replace(' ', '')}%"
    return query.where(or_(User.full_name.ilike(pattern), User.email.ilike(pattern), User.run.ilike(run_pattern)))


def users_query(role: str | None, text: str):
    query = select(User).order_by(User.role, User.full_name, User.id)
    if role:
        query = query.where(User.role == role)
    return matching_people(query, text)


def enrollments_query(course: Course, text: str):
    query = select(Enrollment).join(User).where(Enrollment.course_id == course.id).order_by(User.full_name,
                                                                                           Enrollment.id)
    return matching_people(query, text)

"""From a participant's clicks to a send the simulator accepts, over real HTTP; SENCE's refusals; the daily sweep."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.courses.models import LessonProgress
from app.courses.service import set_completed
from app.extensions import db
from app.notify.models import OutboxMessage
from app.sic import protocol, service
from app.sic.models import CourseSic, SicAccepted, SicAction, SicSend
from app.timeutil import today_in_chile, utcnow
from tests.evaluations.helpers import make_evaluation, take
from tests.factories import login, open_session
from tests.sence.builders import TOKEN
from tests.sic.conftest import participant, sic_course


def _retime(user, course, minutes: list[float]) -> None:
    """Place the participant's recorded clicks at known times (their order kept): time control for the test."""
    actions = db.session.execute(select(SicAction).where(SicAction.user_id == user.id,
                                                         SicAction.course_id == course.id)
                                 .order_by(SicAction.id)).scalars().all()
    assert len(actions) == len(minutes)
    start = utcnow() - timedelta(hours=3)
    for action, offset in zip(actions, minutes, strict=True):
        action.at = start + timedelta(minutes=offset)
    db.session.commit()


def test_a_participants_activity_reaches_the_simulator_and_is_accepted(app, client, db, sic):
    course = sic_course(lessons=4, modules=("M1", "M2"))
    evaluation = make_evaluation(course, title="Prueba módulo 2")
    draft = make_evaluation(course, title="Borrador", published=False)  # not an activity until published
    m2 = service.settings_of(course).modules[1]
    lesson_map, _ = service.mapping_of(course)
    service.save_mapping(course, lesson_map, {evaluation.id: m2.id, draft.id: m2.id})
    ana = participant(course, run="13556884-8", full_name="Ana Pérez")
    open_session(ana, course)
    login(client, ana)
    lessons = list(course.lessons)

    client.get(f"/cursos/{course.id}")  # 1: the course page (lesson 1 shown)
    client.get(f"/cursos/{course.id}/lecciones/{lessons[0].id}")  # 2
    client.post(f"/cursos/{course.id}/lecciones/{lessons[0].id}/completada", data={"done": "1"})  # 3
    client.get(f"/cursos/{course.id}/lecciones/{lessons[1].id}")  # 4
    client.post(f"/cursos/{course.id}/lecciones/{lessons[1].id}/completada", data={"done": "1"})  # 5
    client.get(f"/cursos/{course.id}/lecciones/{lessons[2].id}")  # 6 (module 2)
    client.get(f"/cursos/{course.id}/timer", headers={"HX-Request": "true"})  # a poll is not a click
    recorded = db.session.execute(select(SicAction.lesson_id).where(SicAction.user_id == ana.id)
                                  .order_by(SicAction.id)).scalars().all()
    assert recorded == [None, lessons[0].id, lessons[0].id, lessons[1].id, lessons[1].id, lessons[2].id]
    assert db.session.execute(select(func.count()).select_from(LessonProgress)).scalar() == 2
    # Clicks at 0, 5, 20, 30 and 40 minutes, then lesson 3 after a 50-minute pause (not counted).
    _retime(ana, course, [0, 5, 20, 30, 40, 90])
    take(evaluation, ana)  # all right: grade 7.0

    record = service.send_course(course, "manual")

    assert record.status == "accepted", (record.error, record.response_text)
    assert record.id_proceso == "1" and record.participants == 1 and record.rejected == 0
    sent = record.request_body["listaAlumnos"][0]
    assert (sent["rutAlumno"], sent["dvAlumno"]) == (13556884, "8")
    assert sent["tiempoConectividad"] == 40 * 60  # gaps of 5+15+10+10 minutes; the 50-minute one does not count
    assert sent["porcentajeAvance"] == 60  # 2 lessons + 1 evaluation of 5 activities
    assert sent["estado"] == 1 and sent["evaluacionFinal"] == 100  # cursando; final grade 7.0 so far
    m1, m2_sent = sent["listaModulos"]
    # The first 5 minutes began on the course page, which names no lesson: they count for the course only.
    assert (m1["codigoModulo"], m1["porcentajeAvance"], m1["estado"], m1["tiempoConectividad"]) == ("M1", 100, 1,
                                                                                                     35 * 60)
    assert [a["codigoActividad"] for a in m2_sent["listaActividades"]] == ["Lección 3", "Lección 4",
                                                                           "Prueba módulo 2"]
    assert (m2_sent["porcentajeAvance"], m2_sent["notaModulo"]) == (33, 100)
    assert record.request_body["token"] == "8FCF…4F8F"
    assert TOKEN not in str(record.request_body) and TOKEN not in record.response_text
    accepted = {row.module: row.percent for row in db.session.execute(select(SicAccepted)).scalars()}
    assert accepted == {"": 60, "M1": 100, "M2": 33}
    history = sic.history(rutOtec="76123456-0", idSistema=1350, token=TOKEN)
    assert [r["mod_cod"] for r in history[0]["listaregistros"]] == ["M1", "M2"]
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar() == 0  # no alert


def test_progress_never_decreases_even_when_a_lesson_is_unmarked(app, db, sic):
    course = sic_course(lessons=2, modules=("M1",))
    ana = participant(course)
    for lesson in course.lessons:
        set_completed(ana, lesson, True)
    assert service.send_course(course, "manual").status == "accepted"
    set_completed(ana, course.lessons[0], False)  # now 50 %, SENCE has 100 %

    again = service.send_course(course, "manual")

    assert again.status == "accepted", again.rejections  # the simulator answers 025 to anything lower
    student = again.request_body["listaAlumnos"][0]
    assert student["porcentajeAvance"] == 100 and student["listaModulos"][0]["porcentajeAvance"] == 100


def test_a_lower_progress_is_refused_by_the_simulator_with_025(app, db, sic):
    """The simulator's 025 is real: a payload below what it accepted (e.g. sent by another platform) is refused."""
    course = sic_course(lessons=2, modules=("M1",))
    ana = participant(course)
    for lesson in course.lessons:
        set_completed(ana, lesson, True)
    assert service.send_course(course, "manual").status == "accepted"
    db.session.execute(SicAccepted.__table__.delete())  # Pizarra forgets what SENCE has...
    db.session.commit()
    set_completed(ana, course.lessons[0], False)

    record = service.send_course(course, "manual")

    assert record.status == "partial" and record.rejected == 1
    assert record.rejections[0]["code"] == "025" and record.rejections[0]["name"] == ana.full_name
    assert "mayor al anterior (100.00000)" in record.rejections[0]["message"]


WHOLE = [code for code, error in protocol.ERRORS.items() if error.whole_send]
PER_STUDENT = [code for code, error in protocol.ERRORS.items() if not error.whole_send]


@pytest.mark.parametrize("code", PER_STUDENT)
def test_each_per_participant_code_is_logged_with_its_meaning_and_alerted(app, db, sic, code):
    course = sic_course(lessons=2, modules=("M1",))
    ana, beto = participant(course, full_name="Ana Pérez"), participant(course, full_name="Beto Soto")
    set_completed(ana, course.lessons[0], True)
    set_completed(beto, course.lessons[0], True)
    sic.force(code, rut=beto.run.split("-")[0])

    record = service.send_course(course, "sweep")

    assert record.status == "partial" and record.rejected == 1
    [rejection] = record.rejections
    assert (rejection["code"], rejection["name"], rejection["run"]) == (code, "Beto Soto", beto.run)
    assert rejection["meaning"] == protocol.ERRORS[code].meaning and rejection["fix"] == protocol.ERRORS[code].fix
    accepted = {row.user_id for row in db.session.execute(select(SicAccepted)).scalars()}
    assert accepted == {ana.id}  # the accepted participant is remembered, the rejected one is not
    alert = db.session.execute(select(OutboxMessage)).scalar_one()
    assert alert.kind == "sic" and alert.to_addrs == "alertas@otec.cl"
    assert "rechazó a 1 participante" in alert.body and f"código {code}" in alert.body
    assert "Qué hacer: " + protocol.ERRORS[code].fix in alert.body and TOKEN not in alert.body


@pytest.mark.parametrize("code", WHOLE)
def test_each_whole_send_code_rejects_the_send_and_stores_nothing(app, db, sic, code):
    course = sic_course(lessons=2, modules=("M1",))
    participant(course)
    sic.force(code)

    record = service.send_course(course, "sweep")

    assert record.status == "rejected" and record.rejections[0]["code"] == code
    assert record.rejections[0]["name"] == "" and record.rejections[0]["meaning"] == protocol.ERRORS[code].meaning
    assert db.session.execute(select(func.count()).select_from(SicAccepted)).scalar() == 0
    assert "rechazó el envío completo" in db.session.execute(select(OutboxMessage.body)).scalar_one()


def test_wrong_course_code_for_a_strict_simulator_is_003(app, db, sic):
    sic.app.config["SIMULATOR_SIC_REGISTRY"] = {"OTRO-CURSO": {"runs": []}}
    course = sic_course(lessons=1, modules=("M1",))
    participant(course)
    record = service.send_course(course, "manual")
    assert record.status == "rejected" and record.rejections[0]["code"] == "003"


def test_no_answer_is_retried_then_logged_as_not_sent_and_alerted(app, db, sic):
    app.config["SIC_SIMULATOR_URL"] = "http://127.0.0.1:9/sic"  # nothing listens on the discard port
    course = sic_course(lessons=1, modules=("M1",))
    participant(course)

    record = service.send_course(course, "sweep")

    assert record.status == "failed" and record.tries == 3
    assert record.error.startswith("Sin respuesta de SENCE (no se pudo conectar) tras 3 intento(s)")
    assert "no pudo enviar" in db.session.execute(select(OutboxMessage.body)).scalar_one()


def test_a_course_that_fails_the_check_is_logged_not_sent(app, db, sic):
    course = sic_course(lessons=1, modules=("M1",))
    service.settings_of(course).codigo_grupo = ""
    db.session.commit()
    record = service.send_course(course, "sweep")
    assert record.status == "failed" and record.tries == 0
    assert "Falta el código de la sección (codigoGrupo)." in record.error
    assert "El curso no tiene participantes que informar." in record.error


def test_the_check_lists_what_is_missing(app, db):
    course = sic_course(lessons=1, modules=("M1", "M2"))
    course.sence.otec.tokens[0].revoked_at = utcnow()
    db.session.commit()
    problems = service.problems(course)
    assert "El módulo M2 no tiene lecciones ni evaluaciones asignadas." in problems
    assert "El OTEC «OTEC Prueba» no tiene un token SENCE activo y vigente." in problems


# --- The sweep: once a day, in the window, even with several servers -----------------------------------------

WINDOW = datetime.now(UTC).replace(hour=1, minute=30, second=0, microsecond=0)  # 22:30 or 21:30 in Chile


def _in_window(day_offset: int = 0) -> datetime:
    moment = WINDOW + timedelta(days=day_offset)
    while not protocol.in_send_window(moment):  # Chile's summer or winter time
        moment += timedelta(minutes=30)
    return moment


def _sends(course) -> int:
    return db.session.execute(select(func.count()).select_from(SicSend).where(SicSend.course_id == course.id)).scalar()


def test_the_sweep_sends_once_a_day_inside_the_window(app, db, sic):
    course = sic_course(lessons=1, modules=("M1",), start_date=today_in_chile() - timedelta(days=3))
    participant(course)
    evening = _in_window()
    assert service.sweep(evening - timedelta(hours=3)).skipped  # afternoon: nothing
    assert _sends(course) == 0

    first = service.sweep(evening)
    second = service.sweep(evening + timedelta(minutes=10))

    assert [s.send.status for s in first.sends] == ["accepted"] and second.sends == []
    assert service.sweep(_in_window(1)).sends[0].send.status == "accepted"  # the next evening again
    assert _sends(course) == 2


def test_a_disabled_or_finished_course_is_not_swept(app, db, sic):
    off = sic_course(lessons=1, modules=("M1",))
    participant(off)
    service.settings_of(off).enabled = False
    old = sic_course(lessons=1, modules=("M1",), start_date=today_in_chile() - timedelta(days=60),
                     end_date=today_in_chile() - timedelta(days=30))
    participant(old)
    db.session.commit()
    assert service.sweep(_in_window()).sends == []


@pytest.mark.postgres_only
def test_concurrent_sweeps_send_a_course_once(app, db, sic, backend):
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    _concurrent_sweeps_send_once(app)


def test_concurrent_sweeps_send_a_course_once_on_any_database(app, db, sic):
    """SQLite has no row locks; the conditional claim still lets only one sweep send."""
    _concurrent_sweeps_send_once(app)


def _concurrent_sweeps_send_once(app):
    courses = [sic_course(lessons=1, modules=("M1",)) for _ in range(3)]
    for course in courses:
        participant(course)
    ids = [course.id for course in courses]
    evening, start = _in_window(), threading.Barrier(4)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append([summary.course.id for summary in service.sweep(evening).sends])
            except Exception as err:  # reported below
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(cid for sent in results for cid in sent) == ids
    assert db.session.execute(select(func.count()).select_from(SicSend)).scalar() == 3
    marks = db.session.execute(select(CourseSic.last_sent_on)).scalars().all()
    assert set(marks) == {today_in_chile(evening)}


def test_sic_send_command_forces_a_send_and_prints_a_summary(app, db, sic):
    course = sic_course(lessons=1, modules=("M1",))
    participant(course)
    runner = app.test_cli_runner()

    out = runner.invoke(args=["sic-send", "--course", str(course.id), "--force"]).output
    assert f"SIC: curso {course.id} «{course.title}»: Aceptado (proceso 1), 1 participantes, 0 rechazados" in out
    again = runner.invoke(args=["sic-send", "--course", str(course.id), "--force"]).output
    assert "Aceptado (proceso 2)" in again  # --force ignores the "already sent today" mark


def test_a_participant_who_blocked_processing_is_not_reported(app, db, sic):
    from app.privacy.models import Block

    course = sic_course(lessons=2, modules=("M1",))
    participant(course, run="13556884-8", full_name="Ana Pérez")
    benito = participant(course, run="11111111-1", full_name="Benito Soto")
    db.session.add(Block(user_id=benito.id, since=utcnow()))
    db.session.commit()

    record = service.send_course(course, "manual")

    assert record.status == "accepted", (record.error, record.response_text)
    assert [s["rutAlumno"] for s in record.request_body["listaAlumnos"]] == [13556884]

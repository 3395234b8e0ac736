"""SENCE answers kept on disk (the database could not take them) are replayed by `flask sweep`, as of their arrival.

How an answer gets kept (its connection terminated mid-callback, twice) is tested on PostgreSQL in
tests/security/test_callback_storm.py; here the replay itself, on either database.
"""

import shutil
from datetime import timedelta

from sqlalchemy import select

from app.sence import journal
from app.sence.models import Attempt, Exchange, SenceSession
from app.sence.service import Meta
from tests.sence.builders import sence_course, signed_in_participant, start, success_answer


def _kept_login(client, db, started_hours_ago=0):
    course = sence_course()
    user = signed_in_participant(client, course)
    sent = start(client, course)
    attempt = db.session.execute(select(Attempt)).scalar_one()
    attempt.created_at -= timedelta(hours=started_hours_ago)
    db.session.commit()
    received_at = attempt.created_at + timedelta(minutes=1)
    answer = success_answer(sent, when=received_at)
    path = journal.keep("retoma", answer, Meta(remote_addr="203.0.113.9"), received_at)
    return user, course, answer, received_at, path


def _sweep(app) -> str:
    return app.test_cli_runner().invoke(args=["sweep"]).output


def test_the_sweep_replays_a_kept_answer_and_opens_the_session(app, client, db):
    user, course, answer, received_at, path = _kept_login(client, db)

    output = _sweep(app)

    assert "Respuestas SENCE recuperadas: 1, a la espera: 0." in output
    sence_session = db.session.execute(select(SenceSession)).scalar_one()
    assert (sence_session.user_id, sence_session.course_id) == (user.id, course.id)
    assert sence_session.status == "open" and sence_session.id_sesion_sence == answer["IdSesionSence"]
    exchange = db.session.execute(select(Exchange).where(Exchange.direction == "in")).scalar_one()
    assert exchange.outcome == "accepted" and exchange.at == received_at
    assert exchange.remote_addr == "203.0.113.9"
    assert journal.pending() == [] and (path.parent / "replayed" / path.name).is_file()
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert "Cerrar sesión SENCE" in page


def test_an_answer_is_judged_by_its_arrival_not_by_when_the_sweep_runs(app, client, db):
    *_, received_at, _ = _kept_login(client, db, started_hours_ago=6)  # the database was down for hours

    _sweep(app)

    assert db.session.execute(select(Attempt.status)).scalar_one() == "succeeded"
    sence_session = db.session.execute(select(SenceSession)).scalar_one()
    assert sence_session.started_at == received_at  # timed by its arrival, not by the replay
    assert sence_session.status == "expired"  # so its 3 hours ran out while the database was down


def test_replaying_the_same_answer_again_changes_nothing(app, client, db):
    _, _, _, _, path = _kept_login(client, db)
    _sweep(app)
    shutil.copy(path.parent / "replayed" / path.name, path)  # e.g. two sweeps raced for one file

    _sweep(app)

    assert len(db.session.execute(select(SenceSession)).scalars().all()) == 1
    outcomes = db.session.execute(select(Exchange.outcome).where(Exchange.direction == "in")
                                  .order_by(Exchange.id)).scalars().all()
    assert outcomes == ["accepted", "duplicate"]
    assert journal.pending() == []


def test_a_kept_answer_never_holds_the_token(app, client, db):
    course = sence_course()
    signed_in_participant(client, course)
    sent = start(client, course)
    fields = journal._fields({**success_answer(sent), "Token": "secreto-del-otec"})
    path = journal.keep("retoma", fields, Meta(), db.session.execute(select(Attempt.created_at)).scalar_one())
    assert "secreto-del-otec" not in path.read_text() and "Token" not in path.read_text()
    path.unlink()  # the journal directory is shared by the session: leave no answer for another test's sweep

"""SIC and personal data, through the real SIC simulator: a send, then a suppression of one participant; and the
staff pages that show participants' RUNs are in the access trail."""

from sqlalchemy import select

from app.privacy.models import AccessEvent, Pseudonym
from app.privacy.service import file_request
from app.privacy.suppression import suppress
from app.sic.models import SicAccepted, SicSend
from tests.factories import login, make_user
from tests.sic.conftest import participant, sic_course


def test_a_suppressed_participant_leaves_no_name_or_run_in_the_sends_and_the_others_stay(app, client, db, sic):
    course = sic_course(lessons=2, modules=("M1",))
    ana = participant(course, full_name="Ana Pérez")
    beto = participant(course, full_name="Beto Soto")
    sic.force("012", rut=beto.run.split("-")[0])
    admin = make_user("admin")
    login(client, admin)
    client.post(f"/sic/cursos/{course.id}/enviar")
    beto_run, beto_number, beto_id = beto.run, beto.run.split("-")[0], beto.id

    suppress(file_request(beto, "suppression", ""), admin)
    db.session.expire_all()
    code = db.session.get(Pseudonym, beto_id).code

    send = db.session.execute(select(SicSend)).scalar_one()
    stored = f"{send.request_body} {send.rejections} {send.response_text}"
    for value in ("Beto", beto_run, beto_number):
        assert value not in stored, value
    assert code in stored and ana.run.split("-")[0] in stored  # Ana's line is as it was sent
    assert db.session.query(SicAccepted).filter_by(user_id=ana.id).count() == 2  # course + M1, accepted
    log = client.get(f"/sic/cursos/{course.id}/registro").get_data(as_text=True)
    assert "Beto" not in log and code in log and "código 012" in log

    # Suppressed, he has no RUN any more: the next send leaves him out.
    payload_page = client.get(f"/sic/cursos/{course.id}/vista-previa").get_data(as_text=True)
    assert beto_number not in payload_page and ana.run.split("-")[0] in payload_page


def test_the_dry_run_and_the_log_are_in_the_access_trail(app, client, db, sic):
    course = sic_course(lessons=2, modules=("M1",))
    participant(course, full_name="Ana Pérez")
    beto = participant(course, full_name="Beto Soto")
    sic.force("012", rut=beto.run.split("-")[0])
    login(client, make_user("admin"))
    assert client.get(f"/sic/cursos/{course.id}/registro").status_code == 200  # nothing sent: names nobody
    client.get(f"/sic/cursos/{course.id}/vista-previa")
    client.post(f"/sic/cursos/{course.id}/enviar")
    client.get(f"/sic/cursos/{course.id}/registro")
    events = [(e.action, e.course_id, e.people) for e in db.session.query(AccessEvent).order_by(AccessEvent.id)]
    assert events == [("sic_preview", course.id, 2), ("sic_log", course.id, 1)]

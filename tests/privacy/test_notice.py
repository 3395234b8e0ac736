"""The privacy notice: a Spanish default, versions, and a gate at first sign-in and after each new version."""

import pytest

from app.privacy import service
from app.privacy.models import NoticeAcknowledgement, PrivacyNotice
from tests.courses.helpers import gated_course, participant_signed_in
from tests.factories import login, make_user
from tests.queries import counting
from tests.sence.builders import make_otec


def _acknowledge(client, version=1, next_url="/"):
    return client.post("/privacidad/aceptar", data={"version": str(version), "next": next_url})


def test_the_default_notice_names_the_otec_sence_recipients_periods_and_rights(client, db):
    make_otec(name="Capacitación Andes SpA")
    html = client.get("/privacidad").get_data(as_text=True)
    for text in ("Capacitación Andes SpA", "obligación legal", "SENCE", "OTIC", "5 años", "Mis datos",
                 "30 días corridos", "supresión", "bloqueo"):
        assert text in html, text


def test_a_participant_sees_the_notice_first_and_the_acknowledgement_is_recorded(client, db, notice_gate):
    participant = make_user()
    login(client, participant)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/privacidad?next=/")
    assert "Leí el aviso de privacidad" in client.get("/privacidad?next=/").get_data(as_text=True)

    response = _acknowledge(client, 1, "/mis-datos")
    assert response.headers["Location"] == "/mis-datos"
    ack = NoticeAcknowledgement.query.one()
    assert (ack.user_id, ack.version) == (participant.id, 1) and ack.acknowledged_at is not None
    assert client.get("/").status_code == 200
    _acknowledge(client, 1)
    assert NoticeAcknowledgement.query.count() == 1  # pressing twice records once


def test_a_new_version_is_shown_again(client, db, notice_gate):
    participant, admin = make_user(), make_user("admin")
    login(client, participant)
    _acknowledge(client, 1)
    client.post("/salir")
    login(client, admin)
    response = client.post("/admin/privacidad", data={"which": "notice", "notice-body": "Aviso nuevo. " * 10})
    assert response.status_code == 302
    assert PrivacyNotice.query.count() == 2
    client.post("/salir")
    login(client, participant)
    assert client.get("/").headers["Location"].startswith("/privacidad")
    assert _acknowledge(client, 1).headers["Location"].startswith("/privacidad")  # the old version is refused
    _acknowledge(client, 2)
    assert client.get("/").status_code == 200


def test_the_gate_lets_sign_in_out_passwords_static_and_posts_through(client, db, notice_gate):
    participant = make_user()
    login(client, participant)
    assert client.get("/clave").status_code == 200
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/privacidad").status_code == 200
    assert client.get("/", headers={"HX-Request": "true"}).status_code == 200
    assert client.post("/salir").status_code == 302
    assert client.get("/ingresar").status_code == 200


def test_staff_are_not_gated(client, db, notice_gate):
    login(client, make_user("admin"))
    assert client.get("/").status_code == 200


def test_the_footer_links_the_notice(client, db):
    assert 'href="/privacidad"' in client.get("/ingresar").get_data(as_text=True)


def test_a_notice_too_short_or_unchanged_is_refused(client, db):
    admin = make_user("admin")
    login(client, admin)
    response = client.post("/admin/privacidad", data={"which": "notice", "notice-body": "Corto."})
    assert response.status_code == 422 and "al menos 50 caracteres" in response.get_data(as_text=True)
    same = service.current_notice().body
    response = client.post("/admin/privacidad", data={"which": "notice", "notice-body": same})
    assert response.status_code == 422 and "igual al de la versión vigente" in response.get_data(as_text=True)
    assert PrivacyNotice.query.count() == 1


def test_the_admin_sets_the_deadline_and_retention(client, db):
    login(client, make_user("admin"))
    data = {"which": "settings", "settings-deadline_days": "20", "settings-days_sence_evidence": "2000",
            "settings-days_grades_certificates": "2000", "settings-days_outbox": "90", "settings-days_logs": "800"}
    assert client.post("/admin/privacidad", data=data).status_code == 302
    assert service.deadline_days() == 20
    bad = client.post("/admin/privacidad", data={**data, "settings-days_outbox": "5"})
    assert bad.status_code == 422 and "Entre 30 y 7300 días." in bad.get_data(as_text=True)
    page = client.get("/admin/privacidad").get_data(as_text=True)
    assert 'value="90"' in page


@pytest.mark.parametrize("remembered", [True, False])
def test_the_gate_adds_nothing_to_the_timer_poll_and_at_most_one_query_to_a_page(app, client, db, notice_gate,
                                                                                 monkeypatch, remembered):
    """The current version is remembered by the worker for a while (none), else asked for (one query)."""
    if not remembered:
        monkeypatch.setattr(service, "VERSION_CACHE_SECONDS", -1)
    course, _ = gated_course()
    participant_signed_in(client, course)
    _acknowledge(client, service.current_notice().version)
    client.get("/")  # the acknowledged version is now in the session
    client.get(f"/cursos/{course.id}")  # and the worker's outline of the course is built
    counts = {}
    for gate in (False, True):
        app.config["PRIVACY_NOTICE_GATE"] = gate
        db.session.expunge_all()
        with counting() as statements:
            assert client.get(f"/cursos/{course.id}/timer", headers={"HX-Request": "true"}).status_code == 200
        counts[("timer", gate)] = len(statements)
        db.session.expunge_all()
        with counting() as statements:
            assert client.get(f"/cursos/{course.id}").status_code == 200
        counts[("course", gate)] = len(statements)
    assert counts[("timer", True)] == counts[("timer", False)] == 1
    assert counts[("course", True)] == counts[("course", False)] + (0 if remembered else 1)

"""Registro SENCE: filtered by participant, result and date, paginated, in Spanish (issue 11, item 9)."""

from datetime import timedelta

from app.extensions import db
from app.sence.log import spanish
from app.sence.models import Exchange
from app.timeutil import today_in_chile, utcnow
from tests.factories import login, make_user
from tests.notify.helpers import make_attempt
from tests.sence.builders import participant_in, sence_course


def _log(client, course, query=""):
    return client.get(f"/sence/cursos/{course.id}/registro{query}").get_data(as_text=True)


def _attempts_section(html: str) -> str:
    return html.split('id="intentos"')[1].split('id="sesiones"')[0]


def test_stored_values_read_in_spanish():
    assert spanish("sent") == "enviado" and spanish("accepted") == "aceptado"
    assert spanish("refused:run_mismatch") == "rechazado: RUN distinto del enviado"
    assert spanish("simulator") == "Simulador" and spanish("IniciarSesion") == "IniciarSesion"


def test_filters_by_participant_result_and_date(client):
    course = sence_course()
    ana, beto = participant_in(course, full_name="Ana Pérez"), participant_in(course, full_name="Beto Soto")
    make_attempt(ana, course, status="succeeded", created_at=utcnow() - timedelta(days=3))
    make_attempt(ana, course, status="failed", error_codes="211")
    make_attempt(beto, course, status="failed", error_codes="204")
    login(client, make_user("admin"))

    assert "Intentos (3)" in _log(client, course)
    by_name = _attempts_section(_log(client, course, "?participante=ana"))
    assert "Ana Pérez" in by_name and "Beto Soto" not in by_name
    by_run = _attempts_section(_log(client, course, f"?participante={beto.run}"))
    assert "Beto Soto" in by_run and "Ana Pérez" not in by_run
    failed = _log(client, course, "?resultado=fallido")
    assert "Intentos (2)" in failed and 'value="fallido" selected' in failed
    today = today_in_chile()
    recent = _log(client, course, f"?desde={today - timedelta(days=1)}&hasta={today}")
    assert "Intentos (2)" in recent and "Quitar filtros" in recent


def test_bad_filters_get_a_spanish_message_and_show_everything(client):
    course = sence_course()
    make_attempt(participant_in(course), course, status="failed")
    login(client, make_user("admin"))
    html = _log(client, course, "?desde=ayer&resultado=raro")
    assert "La fecha «desde» no es válida" in html and "Resultado desconocido" in html
    assert "Intentos (1)" in html


def test_long_logs_are_paginated_and_keep_the_filters(client):
    course = sence_course()
    ana = participant_in(course, full_name="Ana Pérez")
    start = utcnow() - timedelta(hours=5)
    for minute in range(30):
        make_attempt(ana, course, status="failed", created_at=start + timedelta(minutes=minute))
    login(client, make_user("admin"))
    first = _log(client, course, "?resultado=fallido")
    assert "Página 1 de 2 · 30 resultados" in first
    assert f'href="/sence/cursos/{course.id}/registro?resultado=fallido&amp;pi=2&amp;ps=1&amp;px=1"' in first
    second = _attempts_section(_log(client, course, "?resultado=fallido&pi=2"))
    assert second.count("<tr>") == 1 + 5 and "Página 2 de 2" in second  # the titles, then 5 rows
    assert "Sin intentos todavía." in _attempts_section(_log(client, course, "?pi=99"))  # past the end


def test_exchange_outcomes_are_shown_in_spanish(client):
    course = sence_course()
    attempt = make_attempt(participant_in(course), course)
    db.session.add_all([Exchange(direction="out", endpoint="IniciarSesion", attempt_id=attempt.id, outcome="sent"),
                        Exchange(direction="in", endpoint="retoma", attempt_id=attempt.id,
                                 outcome="refused:course_mismatch")])
    db.session.commit()
    login(client, make_user("admin"))
    html = _log(client, course)
    assert ">enviado</span>" in html and "rechazado: curso distinto del enviado" in html
    assert ">sent<" not in html and "refused:" not in html
    assert "Intercambios con SENCE (1)" in _log(client, course, "?resultado=fallido")

"""The SENCE timer fragment: what it says in each state, htmx's 204/286 semantics, and its cost per poll."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.courses.timer import _QUERY, _poll_row, course_end, timer_state
from app.sence.gate import live_session
from app.timeutil import CHILE, today_in_chile, utcnow
from tests.courses.helpers import gated_course, participant_signed_in
from tests.factories import enroll, login, make_course, make_user, open_session
from tests.queries import counting


def _poll(client, course, shown: str | None = None):
    query = {"shown": shown} if shown is not None else {}
    return client.get(f"/cursos/{course.id}/timer", query_string=query, headers={"HX-Request": "true"})


def _shown(html: str) -> str:
    marker = 'name="shown" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def test_an_open_session_shows_active_elapsed_and_left(client, db):
    course, _ = gated_course()
    user = participant_signed_in(client, course)
    sence_session = open_session(user, course, started_minutes_ago=65, limit_minutes=180)

    response = _poll(client, course)
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and "<html" not in html and "<nav" not in html
    assert "Sesión SENCE activa" in html
    assert '<dd data-clock="elapsed">1:05:' in html and '<dd data-clock="left">1:54:' in html
    assert 'role="alert"' not in html
    assert _shown(html) == f"open-{sence_session.id}"


def test_the_warning_appears_ten_minutes_before_the_limit(client, db):
    course, _ = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course, started_minutes_ago=171, limit_minutes=180)

    html = _poll(client, course).get_data(as_text=True)

    assert 'class="timer-warning" role="alert"' in html
    assert "Quedan 9 minutos" in html and "Cierra ahora tu sesión SENCE" in html
    assert 'data-page-title="⚠ Cierra tu sesión SENCE"' in html
    page = client.get(f"/cursos/{course.id}").get_data(as_text=True)
    assert "<title>⚠ Cierra tu sesión SENCE · " in page


def test_the_warning_comes_earlier_when_the_course_ends_first(db):
    course, _ = gated_course()
    user = make_user("participant")
    enroll(course, user)
    course.end_date = date(2030, 1, 15)
    end = course_end(course.end_date)
    sence_session = open_session(user, course)
    sence_session.started_at, sence_session.expires_at = end - timedelta(minutes=60), end + timedelta(minutes=120)
    db.session.commit()

    before = timer_state(user.id, course.id, end - timedelta(minutes=11))
    within = timer_state(user.id, course.id, end - timedelta(minutes=9))

    assert before.status == "open" and within.status == "warning"
    assert within.course_end_first and within.deadline == end and within.left == timedelta(minutes=9)
    after_end = timer_state(user.id, course.id, end + timedelta(minutes=1))
    assert after_end.status == "warning"  # still live: keep asking to close it


def test_the_timer_and_the_gate_agree_at_the_exact_limit(db):
    course, _ = gated_course()
    user = make_user("participant")
    enroll(course, user)
    sence_session = open_session(user, course, started_minutes_ago=30)
    limit = sence_session.expires_at

    assert timer_state(user.id, course.id, limit - timedelta(microseconds=1)).status == "warning"
    assert live_session(user.id, course.id, limit - timedelta(microseconds=1)) is not None
    assert timer_state(user.id, course.id, limit).status == "expired"
    assert live_session(user.id, course.id, limit) is None


def test_course_end_is_2359_in_santiago():
    assert course_end(date(2025, 1, 15)) == datetime(2025, 1, 15, 23, 59, tzinfo=CHILE)  # summer, UTC-3
    assert course_end(date(2025, 7, 15)).utcoffset() == timedelta(0)
    assert course_end(date(2025, 7, 15)).hour == 3  # winter, UTC-4: 23:59 -> 03:59 UTC
    assert course_end(None) is None


def test_an_expired_session_says_it_does_not_count(client, db):
    course, _ = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course, started_minutes_ago=200, limit_minutes=180)

    html = _poll(client, course).get_data(as_text=True)

    assert "Sesión expirada: no cuenta para la asistencia" in html and 'role="alert"' in html
    assert "Sesión SENCE activa" not in html


def test_nothing_changed_answers_204_so_htmx_does_not_swap(client, db):
    course, _ = gated_course()
    user = participant_signed_in(client, course)

    locked = _poll(client, course)
    assert locked.status_code == 200 and "Sin sesión SENCE activa" in locked.get_data(as_text=True)
    again = _poll(client, course, shown=_shown(locked.get_data(as_text=True)))
    assert again.status_code == 204 and again.data == b""

    open_session(user, course, started_minutes_ago=1)
    opened = _poll(client, course, shown="locked-0")
    assert opened.status_code == 200 and "Sesión SENCE activa" in opened.get_data(as_text=True)
    assert _poll(client, course, shown=_shown(opened.get_data(as_text=True))).status_code == 204


def test_a_change_of_gate_asks_the_page_to_refresh_its_content(client, db):
    course, _ = gated_course()
    user = participant_signed_in(client, course)
    sence_session = open_session(user, course, started_minutes_ago=1)

    opened = _poll(client, course, shown="locked-0")
    assert opened.headers["HX-Trigger-After-Settle"] == "player:refresh, sence:changed"

    warned = _poll(client, course, shown=f"open-{sence_session.id}")  # same visibility: no refresh
    assert warned.status_code == 200 or warned.status_code == 204
    assert "HX-Trigger-After-Settle" not in warned.headers

    sence_session.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = _poll(client, course, shown=f"open-{sence_session.id}")
    assert expired.status_code == 200 and "Sesión expirada" in expired.get_data(as_text=True)
    assert expired.headers["HX-Trigger-After-Settle"] == "player:refresh, sence:changed"


def test_polling_stops_with_286_when_nothing_more_can_change(client, db):
    today = today_in_chile()
    course, _ = gated_course(end_date=today - timedelta(days=2), start_date=today - timedelta(days=30))
    participant_signed_in(client, course)

    ended = _poll(client, course, shown="locked-0")
    assert ended.status_code == 286 and "El curso terminó" in ended.get_data(as_text=True)


def test_staff_and_signed_out_pollers_are_told_to_stop(client, db):
    course, _ = gated_course()
    signed_out = _poll(client, course)
    assert signed_out.status_code == 286 and "Ingresa de nuevo" in signed_out.get_data(as_text=True)

    login(client, make_user("admin"))
    assert _poll(client, course).status_code == 286


def test_a_participant_of_another_course_gets_403(client, db):
    course, _ = gated_course()
    other = make_course()
    participant_signed_in(client, other)
    assert _poll(client, course).status_code == 403


@pytest.mark.parametrize("state", ["locked", "open", "warning", "expired"])
def test_a_poll_is_one_sql_query_that_also_checks_the_account(client, db, state):
    course, _ = gated_course()
    user = participant_signed_in(client, course)
    started = {"locked": None, "open": 30, "warning": 175, "expired": 200}[state]
    if started is not None:
        open_session(user, course, started_minutes_ago=started)
    url = f"/cursos/{course.id}/timer"
    shown, statuses = "", []
    for _ in range(2):  # first a full fragment, then "nothing changed"
        db.session.expunge_all()  # nothing cached in the identity map: the request loads what it needs
        with counting() as statements:
            response = client.get(url, query_string={"shown": shown}, headers={"HX-Request": "true"})
        statuses.append(response.status_code)
        assert len(statements) == 1, statements
        assert "users.active" in statements[0]  # a deactivated account is refused by the same query
        if response.status_code == 200:
            shown = _shown(response.get_data(as_text=True))
    assert statuses == [200, 204]


def test_the_course_page_embeds_the_timer_with_its_poll(client, db):
    course, _ = gated_course()
    participant_signed_in(client, course)

    html = client.get(f"/cursos/{course.id}").get_data(as_text=True)

    assert f'hx-get="/cursos/{course.id}/timer" hx-trigger="load, every 30s, sence:changed from:body"' in html
    assert 'hx-include="#sence-timer-shown"' in html and 'value="locked-0"' in html
    assert 'hx-trigger="player:refresh from:body"' in html


def test_a_deactivated_participant_polling_is_told_to_sign_in_again(client, db):
    course, _ = gated_course()
    user = participant_signed_in(client, course)
    open_session(user, course)
    user.active = False
    db.session.commit()

    response = client.get(f"/cursos/{course.id}/timer", headers={"HX-Request": "true"})

    assert response.status_code == 286
    assert client.get(f"/cursos/{course.id}").status_code == 302  # signed out everywhere, not only in the poll


@pytest.mark.parametrize("state", ["locked", "open", "expired"])
def test_the_poll_reads_on_the_driver_the_row_sqlalchemy_would_give(db, backend, state):
    """PostgreSQL's poll skips SQLAlchemy's result (app/courses/timer.py): the values, their types and the UTC
    of the datetimes must be the same."""
    if backend != "postgresql":
        pytest.skip("on SQLite the poll goes through SQLAlchemy Core")
    course, _ = gated_course()
    course.sence.exempt_group_ids = [7, 9]
    user = make_user("participant")
    enroll(course, user)
    started = {"locked": None, "open": 30, "expired": 200}[state]
    if started is not None:
        open_session(user, course, started_minutes_ago=started)
    db.session.commit()
    params = {"user_id": user.id, "course_id": course.id, "session_version": None}

    with db.engine.connect() as connection:
        expected = list(connection.execute(_QUERY, params).first())
    row = _poll_row(params)

    assert row == expected and [type(value) for value in row] == [type(value) for value in expected]
    assert expected[4] == [7, 9]
    assert all(value.tzinfo is UTC for value in row[6:8] if value is not None)  # not the server's zone

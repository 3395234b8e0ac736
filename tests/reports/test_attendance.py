"""Connectivity % = hours of sessions opened and closed through SENCE within their limit / course hours."""

from datetime import timedelta

import pytest

from app.reports.service import attendance
from app.timeutil import utcnow
from tests.factories import enroll, make_course, make_group, make_user
from tests.notify.helpers import make_attempt, open_session

NOW = utcnow()
DAY_AGO = NOW - timedelta(days=1)


def closed(hours, limit_minutes=180, environment=None, start=DAY_AGO):
    return ("session", {"started_at": start, "status": "closed", "closed_at": start + timedelta(hours=hours),
                        "limit_minutes": limit_minutes, "environment": environment})


def left_open(started_hours_ago, status="open"):
    return ("session", {"started_at": NOW - timedelta(hours=started_hours_ago), "status": status})


def attempt(status, minutes_ago=60, codes=""):
    return ("attempt", {"status": status, "error_codes": codes, "created_at": NOW - timedelta(minutes=minutes_ago)})


# (case, history, exempt, expected: sessions counted, hours, connectivity %, status, expired, failed)
CASES = [
    ("closed within the limit", [closed(2)], False, (1, 2.0, 20.0, "No cumple", 0, 0)),
    ("closed exactly at the limit", [closed(3)], False, (1, 3.0, 30.0, "No cumple", 0, 0)),
    ("two closed sessions reach the target", [closed(2.5), closed(2, start=DAY_AGO - timedelta(days=1))], False,
     (2, 4.5, 45.0, "Cumple", 0, 0)),
    ("closed after the limit does not count", [closed(3.1)], False, (0, 0.0, 0.0, "No cumple", 1, 0)),
    ("the session's own limit applies", [closed(1.25, limit_minutes=60)], False, (0, 0.0, 0.0, "No cumple", 1, 0)),
    ("left open past the limit expires", [left_open(4)], False, (0, 0.0, 0.0, "No cumple", 1, 0)),
    ("a failed close past the limit expires", [left_open(5, "close_failed")], False,
     (0, 0.0, 0.0, "No cumple", 1, 0)),
    ("an open session does not count yet", [left_open(1)], False, (0, 0.0, 0.0, "No cumple", 0, 0)),
    ("a failed attempt", [attempt("failed", codes="211;204")], False, (0, 0.0, 0.0, "No cumple", 0, 1)),
    ("an attempt unanswered past the session limit is a failure", [attempt("pending", minutes_ago=181)], False,
     (0, 0.0, 0.0, "No cumple", 0, 1)),
    ("an attempt unanswered for 20 minutes may still be answered (ClaveÚnica)", [attempt("pending", minutes_ago=20)],
     False, (0, 0.0, 0.0, "No cumple", 0, 0)),
    ("an attempt still in transit is not", [attempt("pending", minutes_ago=2)], False,
     (0, 0.0, 0.0, "No cumple", 0, 0)),
    ("another environment does not count", [closed(2, environment="test")], False,
     (0, 0.0, 0.0, "No cumple", 0, 0)),
    ("an exempt participant is shown as exempt", [closed(1)], True, (1, 1.0, 10.0, "Exento", 0, 0)),
    ("exempt without sessions", [], True, (0, 0.0, 0.0, "Exento", 0, 0)),
]


@pytest.mark.parametrize(("history", "exempt", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_connectivity(history, exempt, expected):
    course = make_course(hours=10, sence={"environment": "simulator", "connectivity_target": 40})
    group = make_group(course, "Auditores") if exempt else None
    if group:
        course.sence.exempt_group_ids = [group.id]
    user = make_user()
    enroll(course, user, group)
    for kind, fields in history:
        if kind == "session":
            open_session(user, course, **{k: v for k, v in fields.items() if v is not None})
        else:
            make_attempt(user, course, **fields)

    [row] = attendance(course, now=NOW).rows

    counted, hours, pct, status, expired, failed = expected
    assert (row.sessions_counted, row.hours_counted, row.connectivity, row.status_label,
            row.sessions_expired, row.failed_attempts) == (counted, hours, pct, status, expired, failed)
    assert row.target == 40


def test_a_course_without_hours_shows_no_percentage():
    course = make_course(hours=0)
    user = make_user()
    enroll(course, user)
    open_session(user, course, started_at=DAY_AGO, status="closed", closed_at=DAY_AGO + timedelta(hours=1))
    [row] = attendance(course, now=NOW).rows
    assert row.hours_counted == 1.0 and row.connectivity is None and row.status_label == "Sin horas del curso"


def test_last_activity_is_the_latest_attempt_or_session():
    course = make_course()
    user = make_user()
    enroll(course, user)
    open_session(user, course, started_at=DAY_AGO, status="closed", closed_at=DAY_AGO + timedelta(hours=1))
    late = make_attempt(user, course, status="failed", error_codes="100", created_at=NOW - timedelta(hours=2))
    [row] = attendance(course, now=NOW).rows
    assert row.last_activity == late.created_at


def test_one_row_per_enrolled_participant_sorted_by_name():
    course = make_course()
    for name in ("Zoe Díaz", "ana Reyes", "Marta Soto"):
        enroll(course, make_user(full_name=name))
    other = make_course()
    stranger = make_user(full_name="Otro Curso")
    enroll(other, stranger)
    open_session(stranger, course, started_at=DAY_AGO, status="closed", closed_at=DAY_AGO + timedelta(hours=1))
    assert [r.user.full_name for r in attendance(course, now=NOW).rows] == ["ana Reyes", "Marta Soto", "Zoe Díaz"]

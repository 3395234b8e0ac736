"""make bench compares each page with the /healthz of its own round, so that the machine's drift between
measurements does not pass for a change in the code (bench/report.py)."""

from bench.report import combine_rounds, ratios


def _run(rps: float, cpu_ms: float, p99_ms: float) -> dict:
    return {"path": "/x", "method": "GET", "requests": int(rps * 5), "rps": rps, "p50_ms": 1.0, "p90_ms": 2.0,
            "p99_ms": p99_ms, "max_ms": p99_ms * 2, "non2xx": 0, "non2xx_sample": "",
            "socket_errors": {"connect": 0, "read": 1, "write": 0, "timeout": 0}, "kb_per_response": 1.0,
            "wrk_cpu_percent": 10.0, "server_cpu_percent": 180.0, "server_cpu_ms_per_request": cpu_ms,
            "database_cpu_percent": 0.0, "other_cpu_percent": 1.0, "loadavg_before": 1.0, "load": {}}


def test_a_page_is_compared_with_the_healthz_of_its_own_round():
    rounds = [{"healthz": _run(3000, 0.5, 20), "course": _run(750, 2.0, 60)},
              {"healthz": _run(2000, 0.7, 25), "course": _run(600, 2.6, 70)},  # a slow minute: both slower
              {"healthz": _run(3000, 0.5, 20), "course": _run(690, 2.1, 80)}]

    course = combine_rounds(rounds)["course"]

    assert [round(r["ratio"], 2) for r in course["rounds"]] == [0.25, 0.30, 0.23]
    assert course["ratio"] == 0.25 and ratios(combine_rounds(rounds))["course"] == 0.25
    assert course["rps"] == 680  # all requests over all seconds
    assert course["server_cpu_ms_per_request"] == 2.1 and course["p99_ms"] == 70  # medians
    assert course["max_ms"] == 160 and course["socket_errors"]["read"] == 3


def test_a_single_measurement_keeps_its_plain_ratio():
    assert ratios({"healthz": _run(3000, 0.5, 20), "course": _run(600, 2.0, 60)})["course"] == 0.2

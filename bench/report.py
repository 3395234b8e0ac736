"""The benchmark's figures: the machine, the table with ratios to /healthz, the targets, the JSON files."""

import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from sqlalchemy import text

from app.extensions import db

ORDER = ("healthz", "timer", "timer_render", "course", "signin", "question", "answer_save")
TIMERS = ("timer", "timer_render")
NOISY = 15  # % of one core used by other processes during a run
LABELS = {"healthz": "/healthz (baseline)", "timer": "timer poll, unchanged (204)",
          "timer_render": "timer poll, fragment rendered", "course": "course player page",
          "signin": "sign-in page (GET)", "question": "evaluation: question page",
          "answer_save": "evaluation: answer save (POST)"}
# Issue 12: measured per participant on their own attempt (bench/results/answers.tsv), answer save by POST.
EVALUATION = ("question", "answer_save")
METHODS = {"answer_save": "POST"}


def machine() -> dict:
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "database": database(),
        "gunicorn": _version(["gunicorn", "--version"]),
        "wrk": _version(["wrk", "-v"]).split(" [")[0],
    }


def database() -> str:
    if db.engine.dialect.name == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (file)"
    return db.session.execute(text("select version()")).scalar_one().split(" on ")[0]


def _meminfo_kb(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(command: list[str]) -> str:
    binary = shutil.which(command[0]) or str(Path(sys.executable).parent / command[0])
    try:
        done = subprocess.run([binary, *command[1:]], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "unknown"


# --- Ratios and targets ------------------------------------------------------------------------


def ratios(endpoints: dict) -> dict:
    """Each endpoint's throughput as a share of /healthz's: measured in rounds, the median of its rounds' shares."""
    base = endpoints["healthz"]["rps"]
    return {name: result.get("ratio", result["rps"] / base) for name, result in endpoints.items()}


def combine_rounds(rounds: list[dict]) -> dict:
    """One result per endpoint from its rounds (each round: every endpoint once, /healthz first).

    This machine's speed drifts by up to 40 % within minutes (bench/README.md), so an endpoint is compared with
    the /healthz of its own round and the median of those shares is its ratio; its CPU per request is the median
    of its rounds too, and so are its latency percentiles (separate runs' percentiles cannot be merged; every
    round's are kept and printed). Throughput is over all rounds, max latency the worst round's."""
    combined = {}
    for name in rounds[0]:
        runs = [measured[name] for measured in rounds]
        seconds = sum(run["requests"] / run["rps"] for run in runs if run["rps"])
        cpu = [run["server_cpu_ms_per_request"] for run in runs]
        shares = [run["rps"] / measured["healthz"]["rps"] for run, measured in zip(runs, rounds, strict=True)]
        baseline_cpu = [measured["healthz"]["server_cpu_ms_per_request"] for measured in rounds]
        combined[name] = {
            **runs[0],
            "requests": sum(run["requests"] for run in runs),
            "rps": sum(run["requests"] for run in runs) / seconds if seconds else 0.0,
            "p50_ms": median(run["p50_ms"] for run in runs),
            "p90_ms": median(run["p90_ms"] for run in runs),
            "p99_ms": median(run["p99_ms"] for run in runs),
            "max_ms": max(run["max_ms"] for run in runs),
            "non2xx": sum(run["non2xx"] for run in runs),
            "non2xx_sample": next((run["non2xx_sample"] for run in runs if run["non2xx_sample"]), ""),
            "socket_errors": {kind: sum(run["socket_errors"][kind] for run in runs)
                              for kind in runs[0]["socket_errors"]},
            "server_cpu_ms_per_request": None if None in cpu else median(cpu),
            "ratio": median(shares),
            "cpu_vs_healthz": None if None in cpu or None in baseline_cpu else
            median(c / base for c, base in zip(cpu, baseline_cpu, strict=True)),
            "rounds": [{"rps": run["rps"], "ratio": share, "p99_ms": run["p99_ms"],
                        "server_cpu_ms_per_request": run["server_cpu_ms_per_request"]}
                       for run, share in zip(runs, shares, strict=True)],
        }
        for field in ("kb_per_response", "wrk_cpu_percent", "server_cpu_percent", "database_cpu_percent",
                      "other_cpu_percent"):
            values = [run[field] for run in runs]
            combined[name][field] = None if None in values else sum(values) / len(values)
    return combined


def scale_differences(small: dict, large: dict) -> dict:
    """The timer polls at 20,000 participants against 200: throughput, p99 and CPU per request as measured, and
    throughput as a share of the /healthz measured beside each, to tell the machine's drift between the two
    from the database's size (printed, not the target: a single /healthz run is noisy too)."""
    polls = [name for name in TIMERS if name in small]

    def share(runs: dict, name: str) -> float:
        return runs[name]["rps"] / runs["healthz"]["rps"]

    def cpu(run: dict) -> float:
        return run["server_cpu_ms_per_request"] or float("nan")

    return {"difference": {name: large[name]["rps"] / small[name]["rps"] - 1 for name in polls},
            "share_difference": {name: share(large, name) / share(small, name) - 1 for name in polls},
            "p99_difference": {name: large[name]["p99_ms"] / small[name]["p99_ms"] - 1 for name in polls},
            "cpu_difference": {name: cpu(large[name]) / cpu(small[name]) - 1 for name in polls},
            "healthz_difference": large["healthz"]["rps"] / small["healthz"]["rps"] - 1}


def targets(endpoints: dict, page_weight: dict, scale: dict) -> list[dict]:
    r = ratios(endpoints)
    course_page = page_weight["course"]
    course_share = 0.20 if os.environ.get("BENCH_DATABASE_URL") else 0.25  # PostgreSQL shares the two cores
    rows = []
    for name in TIMERS:
        if name not in endpoints:
            continue
        label = LABELS[name]
        rows += [
            (f"{label}: throughput >= 50 % of /healthz", f"{r[name]:.0%}", r[name] >= 0.5),
            (f"{label}: p99 <= 50 ms", f"{endpoints[name]['p99_ms']:.1f} ms", endpoints[name]["p99_ms"] <= 50),
            (f"{label}: 200 vs 20,000 participants differ < 20 %", f"{scale['difference'][name]:+.1%}",
             abs(scale["difference"][name]) < 0.2),
        ]
    rows += [
        (f"course page throughput >= {course_share:.0%} of /healthz", f"{r['course']:.0%}",
         r["course"] >= course_share),
        ("course page CPU <= 2 ms per request", f"{endpoints['course']['server_cpu_ms_per_request'] or 0:.2f} ms",
         (endpoints["course"]["server_cpu_ms_per_request"] or 99) <= 2),
    ]
    for name in ("question", "answer_save"):  # issue 15's second target: the evaluation pages, as the course page
        if name in endpoints:
            cpu = endpoints[name]["server_cpu_ms_per_request"]
            rows += [(f"{LABELS[name]}: throughput >= {course_share:.0%} of /healthz", f"{r[name]:.0%}",
                      r[name] >= course_share),
                     (f"{LABELS[name]}: CPU <= 2 ms per request", f"{cpu or 0:.2f} ms", (cpu or 99) <= 2)]
    rows += [
        ("cold course page <= 40 KB on the wire", f"{course_page['wire_bytes'] / 1024:.1f} KB",
         course_page["wire_bytes"] <= 40 * 1024),
        ("cold course page <= 6 requests", str(course_page["requests"]), course_page["requests"] <= 6),
        ("warm course page = 1 request (+ htmx's timer poll)", str(course_page.get("warm_requests")),
         course_page.get("warm_requests") == 1),
        ("no non-2xx answer in any measured run", str(_non2xx(endpoints, scale)), _non2xx(endpoints, scale) == 0),
    ]
    return [{"target": name, "measured": measured, "pass": bool(ok)} for name, measured, ok in rows]


def _non2xx(endpoints: dict, scale: dict) -> int:
    runs = list(endpoints.values()) + [run for size in scale["runs"].values() for run in size.values()]
    return sum(run["non2xx"] for run in runs)


# --- Printing and writing ------------------------------------------------------------------------


def print_table(endpoints: dict, labels: dict | None = None) -> None:
    labels = {**LABELS, **(labels or {})}
    r = ratios(endpoints)
    print(f"\n{'endpoint':<32}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}{'vs healthz':>11}"
          f"{'CPU ms/req':>11}{'server':>8}{'wrk':>6}{'db':>6}{'other':>7}")
    for name in ORDER:
        if name not in endpoints:
            continue
        e = endpoints[name]
        print(f"{labels[name]:<32}{e['rps']:>7.0f}{e['p50_ms']:>8.1f}{e['p99_ms']:>8.1f}{e['non2xx']:>8}"
              f"{r[name]:>10.0%} {e['server_cpu_ms_per_request'] or 0:>10.2f}{e['server_cpu_percent'] or 0:>7.0f}%"
              f"{e['wrk_cpu_percent']:>5.0f}%{e['database_cpu_percent']:>5.0f}%{e['other_cpu_percent']:>6.0f}%")
    _print_rounds(endpoints, labels)
    noisy = [labels[n] for n in ORDER if n in endpoints and endpoints[n]["other_cpu_percent"] > NOISY]
    if noisy:
        print(f"WARNING: other processes used more than {NOISY} % of a core during: {', '.join(noisy)}; "
              "those figures are depressed by contention (CPU ms/req is the steadier figure).")


def _print_rounds(endpoints: dict, labels: dict) -> None:
    measured = [name for name in ORDER if name in endpoints and len(endpoints[name].get("rounds", [])) > 1]
    if not measured:
        return
    print("by round (share of that round's /healthz, CPU ms/req, p99 ms); the table gives the medians; last, the "
          "median CPU per request in multiples of its round's /healthz (steadier than ms when the machine drifts):")
    for name in measured:
        rounds = "   ".join(f"{run['ratio']:.0%} {run['server_cpu_ms_per_request'] or 0:.2f} {run['p99_ms']:.0f}"
                           for run in endpoints[name]["rounds"])
        multiple = endpoints[name].get("cpu_vs_healthz")
        print(f"  {labels[name]:<31}{rounds}   {'' if multiple is None else f'{multiple:.1f}x'}")


def print_page_weight(page_weight: dict) -> None:
    for name, weight in page_weight.items():
        print(f"\ncold load of the {name} page ({weight['final_url']}): {weight['requests']} requests, "
              f"{weight['wire_bytes'] / 1024:.1f} KB on the wire, {weight['body_bytes'] / 1024:.1f} KB of bodies, "
              f"~{weight['gzip_estimate'] / 1024:.1f} KB if gzip-compressed; "
              f"compressed on the wire: {'yes' if weight['compressed_on_the_wire'] else 'no'}; "
              f"warm load: {weight.get('warm_requests')} request(s) {weight.get('warm_urls', [])} "
              f"and htmx {weight.get('warm_xhr', [])}")
        if weight["material_requests"]:
            print(f"    plus the lesson's material: {weight['material_requests']} request(s), "
                  f"{weight['material_wire_bytes'] / 1024:.1f} KB (not counted above)")
        for kind, bucket in sorted(weight["by_type"].items()):
            print(f"    {kind:<12}{bucket['requests']:>3} req  {bucket['wire_bytes'] / 1024:>7.1f} KB wire"
                  f"  {bucket['gzip_estimate'] / 1024:>7.1f} KB gzip")


def print_scale(scale: dict) -> None:
    print(f"\n/healthz beside the polls: 200 participants {_run_line(scale['runs']['200']['healthz'])}; "
          f"20,000: {scale['runs']['20000']['healthz']['rps']:.0f} req/s ({scale['healthz_difference']:+.1%})")
    for name in scale["difference"]:
        small, large = scale["runs"]["200"][name], scale["runs"]["20000"][name]
        print(f"{LABELS[name]}\n    200 participants: {_run_line(small)}\n    20,000 participants: {_run_line(large)}"
              f"\n    difference: throughput {scale['difference'][name]:+.1%} "
              f"({scale['share_difference'][name]:+.1%} as a share of the /healthz beside it), "
              f"p99 {scale['p99_difference'][name]:+.1%}, "
              f"CPU per request {scale['cpu_difference'][name]:+.1%}")


def _run_line(run: dict) -> str:
    return (f"{run['rps']:.0f} req/s, p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, "
            f"{run['server_cpu_ms_per_request'] or 0:.2f} CPU ms/req, database {run['database_cpu_percent']:.0f} %, "
            f"other processes {run['other_cpu_percent']:.0f} %")


def print_targets(rows: list[dict]) -> None:
    print("\ntargets:")
    for row in rows:
        print(f"  {'PASS' if row['pass'] else 'MISS'}  {row['target']:<68} {row['measured']}")


def print_all(results: dict, stand_in: bool = False) -> None:
    print(f"\nmachine: {results['machine']}")
    print_table(results["endpoints"], {"timer": "SENCE box fragment (stand-in)"} if stand_in else None)
    print_page_weight(results["page_weight"])
    print_scale(results["scale"])
    print_targets(results["targets"])


def write(results: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"bench-{stamp}.json"
    body = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    path.write_text(body)
    (directory / "latest.json").write_text(body)
    return path

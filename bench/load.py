"""Drive one endpoint with wrk (bounded in time, 127.0.0.1 only) and read its JSON summary."""

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).with_name("rotate.lua")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Load:
    threads: int = 2
    connections: int = 50
    seconds: int = 15
    warmup: int = 3


def measure(base_url: str, path: str, load: Load, cookies_file: Path | None = None, hx: bool = False,
            server_pid: int | None = None, method: str = "GET") -> dict:
    """Warm up, then measure; returns requests/s, latency percentiles (ms), non-2xx count and CPU used."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("the benchmark only loads 127.0.0.1")
    if load.warmup:
        _wrk(base_url, path, load.threads, load.connections, load.warmup, cookies_file, hx, method)
    database = _postgres_database()
    server_before, busy_before = server_cpu_seconds(server_pid), machine_busy_seconds()
    db_before = postgres_cpu(database)
    loadavg = _loadavg()
    raw, wrk_cpu = _wrk(base_url, path, load.threads, load.connections, load.seconds, cookies_file, hx, method)
    server_cpu = server_cpu_seconds(server_pid) - server_before if server_pid else None
    busy, db_cpu = machine_busy_seconds() - busy_before, max(0.0, postgres_cpu(database) - db_before)
    seconds = raw["duration_us"] / 1e6
    other_cpu = max(0.0, busy - wrk_cpu - db_cpu - (server_cpu or 0.0))
    result = {
        "path": path,
        "method": method,
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non2xx": raw["non2xx"],
        "non2xx_sample": raw["non2xx_sample"].strip(),
        "socket_errors": raw["socket_errors"],
        "kb_per_response": raw["bytes"] / max(raw["requests"], 1) / 1024,
        "wrk_cpu_percent": 100 * wrk_cpu / seconds,
        "server_cpu_percent": None if server_cpu is None else 100 * server_cpu / seconds,
        "server_cpu_ms_per_request": None if server_cpu is None else 1000 * server_cpu / max(raw["requests"], 1),
        "database_cpu_percent": 100 * db_cpu / seconds,
        "other_cpu_percent": 100 * other_cpu / seconds,
        "loadavg_before": loadavg,
        "load": asdict(load),
    }
    return result


def _wrk(base_url, path, threads, connections, seconds, cookies_file, hx, method="GET") -> tuple[dict, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
               base_url, "--", path, str(cookies_file or ""), "1" if hx else "0", method]
    before = _children_cpu()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    usage = _children_cpu() - before
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed on {path}: {stderr.strip() or stdout.strip()}")
    return json.loads(line[len("BENCH_JSON "):]), usage


def _children_cpu() -> float:
    """CPU seconds used by this process's reaped children (wrk runs one at a time)."""
    times = os.times()
    return times.children_user + times.children_system


def server_cpu_seconds(master_pid: int | None) -> float:
    """User + system CPU seconds of the gunicorn master's worker processes, from /proc."""
    if not master_pid:
        return 0.0
    total = 0.0
    for pid in _children(master_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return total


def prime(base_url: str, paths: list[tuple], seconds: int) -> None:
    """Warm every endpoint once before the first measurement (templates, statement caches, imports).

    Each entry is (path, cookies file, hx) or (path, cookies file, hx, method)."""
    for path, cookies_file, hx, *method in paths:
        _wrk(base_url, path, 2, 10, seconds, cookies_file, hx, *method)


def postgres_cpu(database: str = "") -> float:
    """CPU seconds of the local PostgreSQL backends serving `database` (their title names it); 0 without one."""
    if not database:
        return 0.0
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres:") or f" {database} " not in title:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on the machine (all cores, not idle or iowait), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def _postgres_database() -> str:
    """The bench's own PostgreSQL database name (from DATABASE_URL), or "" with SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    return url.rsplit("/", 1)[-1].split("?")[0] if url.startswith("postgres") else ""


def _loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])

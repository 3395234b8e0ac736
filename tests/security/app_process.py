"""A Pizarra app in a process of its own (`python -m tests.security.app_process PORT`), for tests that need
two servers sharing one database or one rate-limit store, as gunicorn workers do.

The config overrides come as JSON in PIZARRA_TEST_OVERRIDES; the process prints "ready" once it listens.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(port: int) -> None:
    from werkzeug.serving import make_server

    from app import create_app

    app = create_app(json.loads(os.environ.get("PIZARRA_TEST_OVERRIDES", "{}")))
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppProcess:
    """Start the app in a child process on a free port; `stop()` ends that child only."""

    def __init__(self, overrides: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PIZARRA_TEST_OVERRIDES": json.dumps(overrides)}
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop(); a pipe could fill)
        self.process = subprocess.Popen([sys.executable, "-m", "tests.security.app_process", str(self.port)],
                                        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()  # "ready", or EOF when the process died
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"the app process did not start: {self._log_text()[-2000:]}")

    @property
    def peak_rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def _log_text(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        """Stop the child and return what it wrote on stderr (its log)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        text = self._log_text()
        self.log.close()
        return text


if __name__ == "__main__":
    main(int(sys.argv[1]))

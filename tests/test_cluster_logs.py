"""`make cluster-test` proves which server got which request from gunicorn's access logs: the format it gives
gunicorn (bench/cluster.py) must parse back into method, path, status and the forwarded client address."""

from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from bench.cluster import ACCESS_FORMAT, Hit, read_log

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"


def _log(path, method: str, target: str, status: str, headers: list[tuple[str, str]]) -> None:
    """One request written by gunicorn's own access logger, with the cluster test's format."""
    cfg = Config()
    cfg.set("accesslog", str(path))
    cfg.set("access_log_format", ACCESS_FORMAT)
    logger = Logger(cfg)
    environ = {"REQUEST_METHOD": method, "RAW_URI": target, "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers}}
    logger.access(SimpleNamespace(status=status, sent=120, headers=[]),
                  SimpleNamespace(headers=[(k.upper(), v) for k, v in headers]), environ, timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()


def test_a_forwarded_browser_request_and_a_direct_one_parse_back(tmp_path):
    path = tmp_path / "access-a.log"
    _log(path, "POST", "/s/r?x=1", "200 OK", [("X-Forwarded-For", "10.9.8.7, 127.44.3.2"), ("User-Agent", CHROME)])
    _log(path, "POST", "/ingresar", "429 TOO MANY REQUESTS", [("User-Agent", "pizarra-bench/1")])
    assert read_log("A", path) == [
        Hit("A", "127.44.3.2", True, "POST", "/s/r", 200),  # the last address: the one HAProxy added
        Hit("A", "-", False, "POST", "/ingresar", 429),
    ]

"""A tiny HTTP client for the benchmark: signs participants in through the real form and checks pages."""

import http.client
import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

USER_AGENT = "pizarra-bench/1"  # the same as rotate.lua: Flask-Login ties the session to it
CSRF_FIELD = re.compile(
    r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"'
)


@dataclass
class Reply:
    status: int
    headers: dict
    body: str
    set_cookies: dict


class Client:
    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise ValueError("the benchmark only talks to 127.0.0.1")
        self.host, self.port = parts.hostname, parts.port or 80

    def request(self, method: str, path: str, cookie: str = "", form: dict | None = None, hx: bool = False) -> Reply:
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = cookie
        if hx:
            headers["HX-Request"] = "true"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            cookies = SimpleCookie()
            for value in response.headers.get_all("Set-Cookie") or []:
                cookies.load(value)
            return Reply(response.status, dict(response.headers.items()), text,
                         {name: morsel.value for name, morsel in cookies.items()})
        finally:
            conn.close()

    def get(self, path: str, cookie: str = "", hx: bool = False) -> Reply:
        return self.request("GET", path, cookie=cookie, hx=hx)

    def wait_until_up(self, path: str = "/healthz", seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if self.get(path).status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {path} within {seconds:.0f} s")
            time.sleep(0.2)

    def sign_in(self, identifier: str, password: str) -> str:
        """The session cookie ("session=...") of a participant signed in through /ingresar."""
        page = self.get("/ingresar")
        match = CSRF_FIELD.search(page.body)
        if page.status != 200 or not match or "session" not in page.set_cookies:
            raise RuntimeError(f"the sign-in page did not offer a form and a session (HTTP {page.status})")
        token = match.group(1) or match.group(2)
        answer = self.request("POST", "/ingresar", cookie=f"session={page.set_cookies['session']}",
                              form={"csrf_token": token, "identifier": identifier, "password": password})
        if answer.status != 302 or "session" not in answer.set_cookies:
            raise RuntimeError(f"signing in {identifier} failed: HTTP {answer.status}")
        return f"session={answer.set_cookies['session']}"

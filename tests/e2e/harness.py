"""Real servers for browser tests: the service on one origin, a host site on another."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import uvicorn

from tests.process.server import free_port


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread, on loopback; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        raise AssertionError(f"the service at {url} did not get ready")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class HostSite:
    """A web site of a region: pages set by the tests, served on loopback under two
    host names, ``localhost`` and ``127.0.0.1``, which the browser sees as two origins."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = pages.get(self.path)
                status = HTTPStatus.OK if page is not None else HTTPStatus.NOT_FOUND
                body = (page or "not found").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is about the widget."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.origin = f"http://localhost:{self.port}"
        self.other_origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostSite:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def host_page(
    api: str,
    key: str | None,
    lang: str,
    *,
    css: str = "",
    region: str = "CZ064",
) -> str:
    """A regional portal page with some content of its own around the widget (none when
    ``key`` is None)."""
    embed = (
        ""
        if key is None
        else f'<div data-partnermatch></div>\n<script src="{api}/widget.js" '
        f'data-key="{key}" data-lang="{lang}" data-region="{region}" async></script>'
    )
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Export - Jihomoravský kraj</title>
<style>{css}</style></head>
<body>
<nav><a href="/kontakt">Kontakt</a></nav>
<h1>Exportní poradenství</h1>
<ul id="host-list"><li>Semináře</li><li>Veletrhy</li></ul>
<p id="host-text">Najděte partnera pro výzkum.</p>
<button id="host-button" type="button">Odběr novinek</button>
{embed}
</body></html>"""

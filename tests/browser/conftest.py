"""Fixtures of the real-browser tests: Debian's Chromium driven by Playwright, and a live BadgeHub server.

The browser is the system's (``/usr/bin/chromium``), never one downloaded by ``playwright install``. When it is
missing the tests are skipped with the reason, except under CI (``CI`` set), where a missing browser is a
failure: a green CI run must mean the browser test ran.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from badgehub.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class LiveServer:
    """A BadgeHub app served over HTTP on 127.0.0.1, with its own freshly migrated database."""

    url: str
    app: Flask
    outbox: Path


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A phone-sized page in English that may only talk to the live server."""
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    foreign: list[str] = []

    def only_our_server(route: Any) -> None:
        if route.request.url.startswith(live_server.url + "/"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_server)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
    assert foreign == [], f"the page asked for something outside the app: {foreign}"


@pytest.fixture
def live_server(fresh_database: Any, make_app: Any, tmp_path: Path) -> Iterator[LiveServer]:
    """Serve a new app on a free port of 127.0.0.1 from a background thread, on its own migrated database."""
    app = make_app(fresh_database(), tmp_path, TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # Links in e-mails are built from BASE_URL; it is only known once the port is.
    app.config["BASE_URL"] = url
    # shutdown() waits for the loop to look at its flag: every 0.5 s by default, half a second lost per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="badgehub-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, app=app, outbox=Path(app.config["OUTBOX_DIR"]))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()

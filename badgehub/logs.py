"""Logging: plain lines for a terminal, or one JSON object per line (``BADGEHUB_LOG_FORMAT=json``) for a log
collector, each carrying the id of the request it belongs to.

The request id is the ``X-Request-ID`` the proxy sent (nginx's ``$request_id`` in ``deploy/``), or a fresh
one; it is sent back in the response, so a person reporting a problem can quote it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
log = logging.getLogger("badgehub.requests")


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return getattr(g, "request_id", None) if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, and what the record adds."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for name in ("method", "route", "path", "status", "duration_ms", "remote_addr"):
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str, fmt: str) -> None:
    """Set the root logger's level and format (``text`` or ``json``) once per process; leave the handlers
    alone when logging was already set up by someone else."""
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if getattr(h, "badgehub", False)), None)
    if handler is None and root.handlers:
        return  # logging was set up by whoever hosts the app (a test runner, an embedding app), as basicConfig
    if handler is None:
        handler = logging.StreamHandler()
        handler.badgehub = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN_FORMAT))


def _begin() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _end(response: Response) -> Response:
    request_id = getattr(g, "request_id", None)
    if request_id:
        response.headers["X-Request-ID"] = request_id
    started = getattr(g, "request_started", None)
    if started is not None and current_app.config.get("LOG_FORMAT") == "json":  # text: gunicorn's access log
        log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1), "remote_addr": request.remote_addr})
    return response


def init_app(app: Flask) -> None:
    """Configure logging from ``LOG_LEVEL`` and ``LOG_FORMAT`` and give every request an id."""
    configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    app.before_request(_begin)
    app.after_request(_end)

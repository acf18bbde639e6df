"""``/metrics`` in the Prometheus text format: what an operator graphs and alerts on.

* ``badgehub_http_requests_total`` and ``badgehub_http_request_duration_seconds`` by route (the URL rule, not
  the path, so ids do not explode the series), method and status;
* ``badgehub_credentials_issued_total`` by source, ``badgehub_verifications_total`` by verdict,
  ``badgehub_mail_total`` by outcome (from the signals of :mod:`badgehub.events`);
* ``badgehub_batches`` by state (queued, running, failed), read from the database when scraped, so every node
  says the same and nothing is lost when a process dies.

Several gunicorn workers: each process has its own counters; when ``PROMETHEUS_MULTIPROC_DIR`` is set (the
gunicorn settings in ``deploy/`` do it) they are written there and summed at scrape time, whichever worker
answers. Access: only from ``METRICS_ALLOWED_NETWORKS`` or with the bearer ``METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from badgehub import events

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("badgehub_http_requests_total", "HTTP requests answered.", ["route", "method", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("badgehub_http_request_duration_seconds", "Time to answer an HTTP request.",
                    ["route", "method"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
ISSUED = Counter("badgehub_credentials_issued_total", "Credentials signed and stored.", ["source"],
                 registry=REGISTRY)
VERIFICATIONS = Counter("badgehub_verifications_total", "Badges checked on /verify and the API.", ["verdict"],
                        registry=REGISTRY)
MAIL = Counter("badgehub_mail_total", "E-mails handed to the mail backend.", ["outcome"], registry=REGISTRY)

WATCHED_BATCH_STATES = ("queued", "running", "failed")


class BatchStates(Collector):
    """CSV batches (the background jobs) by state, counted in the database at scrape time."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from badgehub.extensions import db
        from badgehub.issuing.models import IssueBatch

        family = GaugeMetricFamily("badgehub_batches", "CSV batches by state (queued, running, failed).",
                                   labels=["state"])
        with self.app.app_context():
            rows = dict(db.session.execute(select(IssueBatch.state, func.count()).group_by(IssueBatch.state))
                        .tuples().all())
            db.session.rollback()
        counts = {str(getattr(state, "value", state)): number for state, number in rows.items()}
        for state in WATCHED_BATCH_STATES:
            family.add_metric([state], counts.get(state, 0))
        yield family


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def exposition(app: Flask) -> bytes:
    """The text a scrape gets: this process's counters (or every worker's, in multi-process mode) and the
    database gauges."""
    registry = CollectorRegistry()
    if _multiprocess_dir():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in (REQUESTS, LATENCY, ISSUED, VERIFICATIONS, MAIL):
            registry.register(collector)
    registry.register(BatchStates(app))
    return generate_latest(registry)


def _allowed(app: Flask) -> bool:
    token = app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), str(token)):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in app.config["METRICS_NETWORKS"])


def metrics_view() -> Response:
    """``GET /metrics``; 404 (it does not exist, as far as anybody else can tell) to other clients."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not _allowed(app):
        abort(404)
    return Response(exposition(app), mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    if route == "/metrics":
        return response
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
    return response


def _count_issued(sender: Any, credential: Any, **_: Any) -> None:
    ISSUED.labels(str(getattr(credential.source, "value", credential.source))).inc()


def _count_verification(sender: Any, verdict: str, **_: Any) -> None:
    VERIFICATIONS.labels(verdict).inc()


def _count_mail_sent(sender: Any, **_: Any) -> None:
    MAIL.labels("sent").inc()


def _count_mail_failed(sender: Any, **_: Any) -> None:
    MAIL.labels("failed").inc()


def init_app(app: Flask) -> None:
    """Time every request, count the events, and route ``/metrics``."""
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
    events.credential_issued.connect(_count_issued)
    events.verification_finished.connect(_count_verification)
    events.mail_sent.connect(_count_mail_sent)
    events.mail_failed.connect(_count_mail_failed)

"""gunicorn settings for BadgeHub (``gunicorn -c deploy/gunicorn.conf.py 'badgehub:create_app()'``).

Every value can be changed through the environment of the unit (``BADGEHUB_GUNICORN_*``), so one file serves
every node and every instance on a host.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_instance = os.environ.get("BADGEHUB_GUNICORN_INSTANCE", "web")
# systemd's RuntimeDirectory= (one per instance: /run/badgehub-web-<port>), else a folder of its own in /tmp.
_runtime = Path(os.environ.get("RUNTIME_DIRECTORY") or f"/tmp/badgehub-{_instance}-{os.getuid()}")  # noqa: S108

bind = os.environ.get("BADGEHUB_GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("BADGEHUB_GUNICORN_WORKERS", str(min(2 * (os.cpu_count() or 1) + 1, 8))))
threads = int(os.environ.get("BADGEHUB_GUNICORN_THREADS", "2"))
# A CSV list of up to BADGEHUB_BATCH_INLINE_ROWS (200) rows is issued inside the request, and a PDF certificate
# is drawn in it: 120 s covers both on a small machine. nginx's proxy_read_timeout is set a little higher.
timeout = int(os.environ.get("BADGEHUB_GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then (with jitter, not all at once) so that no slow leak ever matters.
max_requests = 2000
max_requests_jitter = 200
# Two instances on one host must not share gunicorn's default ~/.gunicorn/gunicorn.ctl.
control_socket = str(_runtime / "gunicorn.ctl")
# nginx in front passes X-Forwarded-*; BADGEHUB_TRUSTED_PROXIES=1 makes the app believe them.
forwarded_allow_ips = os.environ.get("BADGEHUB_GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s'

# /metrics sums every worker's counters: prometheus_client's multi-process mode, in a folder emptied at start.
_metrics = _runtime / "metrics"
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_metrics))


def on_starting(server):
    _runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


def post_worker_init(worker):
    # Everything the worker loaded (modules, the app, its routes and models) moves out of the collector's sight:
    # a full collection then walks only what requests made since, a few milliseconds instead of the 150 to 200 ms
    # pause that otherwise fell on one request in ten at random (bench/README.md, "Learner sets per year").
    import gc

    gc.freeze()
    worker.log.info("gc: %d objects of the loaded app frozen", gc.get_freeze_count())


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

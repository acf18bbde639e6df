"""Background jobs: one small queue in front of two engines.

* **RQ on Redis** when ``BADGEHUB_REDIS_URL`` is set: :func:`enqueue` puts the job on the ``badgehub`` queue
  and ``badgehub worker`` (any number of them, on any machine sharing the database) runs it. Jobs survive a
  restart of the web processes in Redis; a job whose worker died is resumed by ``badgehub batches resume``
  (the worker also runs it when it starts).
* **An in-process worker thread** otherwise (one process, a laptop, the demo): started with the first
  request of a process (:func:`start_in_process_worker`), it first resumes the batches left queued or running
  by the previous process, then runs what is enqueued. With several web processes and no Redis, two of them
  may resume the same batch at once: each row is still issued once (the row locks and its idempotency key) and
  each person mailed once (rows being mailed are locked and skipped by the other run, on PostgreSQL), but the
  work is shared badly: production sets ``BADGEHUB_REDIS_URL``.

Jobs are named (:data:`badgehub.jobs.tasks.TASKS`) and take plain arguments (ids), so either engine can run
them; every job is written to be run twice without harm. The config key ``JOB_BACKEND`` (``rq``, ``thread``
or ``sync``: run at once in the caller) overrides the choice; tests use it.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Final

from flask import Flask
from redis.exceptions import RedisError

from badgehub.config import REDIS_TIMEOUT

log = logging.getLogger(__name__)

EXTENSION: Final = "badgehub_jobs"
DEFAULT_QUEUE: Final = "badgehub"
# A batch of 5,000 rows takes minutes; RQ's default of 180 s would kill it half-way (it would resume, but why).
JOB_TIMEOUT: Final = 3600


def backend(app: Flask) -> str:
    """``rq``, ``thread`` or ``sync``: the configured ``JOB_BACKEND``, else ``rq`` when Redis is configured."""
    chosen = app.config.get("JOB_BACKEND")
    if chosen in ("rq", "thread", "sync"):
        return str(chosen)
    return "rq" if app.config.get("REDIS_URL") else "thread"


def rq_queue(app: Flask) -> Any:
    """The RQ queue of this installation (``JOB_QUEUE``, default ``badgehub``) on ``REDIS_URL``."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=REDIS_TIMEOUT)
    return Queue(app.config.get("JOB_QUEUE") or DEFAULT_QUEUE, connection=connection, default_timeout=JOB_TIMEOUT)


def enqueue(app: Flask, name: str, *args: Any) -> None:
    """Run the task ``name`` with ``args`` in the background (see the module docstring for where)."""
    from badgehub.jobs import tasks

    if name not in tasks.TASKS:
        raise KeyError(name)
    engine = backend(app)
    if engine == "rq":
        try:
            rq_queue(app).enqueue_call("badgehub.jobs.tasks.perform", args=(name, *args), result_ttl=3600,
                                       failure_ttl=7 * 24 * 3600, description=f"{name}{args!r}")
            return
        except (RedisError, OSError):
            # Redis down: the job runs in this process rather than not at all (every job may run twice).
            log.warning("job queue unreachable: running %s%r in this process", name, args)
            engine = "thread"
    if engine == "sync":
        tasks.TASKS[name](*args)
    else:
        start_in_process_worker(app).submit(name, *args)


class InProcessWorker:
    """One daemon thread running jobs one after the other in its own application context."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.jobs: queue.Queue[tuple[str, tuple[Any, ...]] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="badgehub-jobs", daemon=True)

    def submit(self, name: str, *args: Any) -> None:
        self.jobs.put((name, args))

    def wait(self) -> None:
        """Block until every job submitted so far is done (tests, and a clean shutdown)."""
        self.jobs.join()

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join()

    def _loop(self) -> None:
        from badgehub.extensions import db
        from badgehub.jobs import tasks

        while True:
            item = self.jobs.get()
            try:
                if item is None:
                    return
                name, args = item
                with self.app.app_context():
                    try:
                        tasks.TASKS[name](*args)
                    except Exception:
                        # The job stays resumable (rows are pending until their chunk commits); keep serving.
                        log.exception("background job %s%r failed", name, args)
                    finally:
                        db.session.remove()
            finally:
                self.jobs.task_done()


_START_LOCK = threading.Lock()


def start_in_process_worker(app: Flask, *, resume: bool = True) -> InProcessWorker:
    """The app's in-process worker, started (once per process) and, when just started, asked to resume the
    batches a previous process left unfinished."""
    with _START_LOCK:
        worker: InProcessWorker | None = app.extensions.get(EXTENSION)
        if worker is None:
            worker = InProcessWorker(app)
            app.extensions[EXTENSION] = worker
            worker.thread.start()
            if resume:
                worker.submit("batches.resume")
    return worker

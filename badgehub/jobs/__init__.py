"""Background jobs: one small queue in front of two engines.

* **RQ on Redis** when ``BADGEHUB_REDIS_URL`` is set: :func:`enqueue` puts the job on the ``badgehub`` queue
  and ``badgehub worker`` (any number of them, on any machine sharing the database) runs it. Jobs survive a
  restart of the web processes in Redis; a job whose worker died is resumed by ``badgehub batches resume``
  (the worker also runs it when it starts).
* **An in-process worker thread** otherwise (one process, a laptop, the demo): started with the first request of a
  process (:func:`init_app` has the app call :func:`start_in_process_worker`), it first resumes the batches left
  queued or running by the previous process, then runs what is enqueued. With several web processes and no Redis,
  two of them may resume the same batch at once: each row is still issued once (the row locks and its idempotency
  key) and each person mailed once (rows being mailed are locked and skipped by the other run, on PostgreSQL), but
  the work is shared badly: production sets ``BADGEHUB_REDIS_URL``.

Either engine also runs the :data:`SCHEDULED` tasks (the refresh of the signed status lists, the purge of the
outbox's messages older than ``MAIL_RETENTION_DAYS``) when it starts
and every ``STATUS_LIST_REFRESH_SECONDS``: the in-process worker of each web process, or each ``badgehub
worker``. Jobs are named (:data:`badgehub.jobs.tasks.TASKS`) and take plain arguments (ids), so either engine can run
them; every job is written to be run twice without harm. The config key ``JOB_BACKEND`` (``rq``, ``thread``
or ``sync``: run at once in the caller) overrides the choice; tests use it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Final

from flask import Flask
from redis.exceptions import RedisError

from badgehub.config import REDIS_TIMEOUT
from badgehub.jobs.lease import lease_seconds

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
            rq_queue(app).enqueue_call("badgehub.jobs.entry.perform", args=(name, *args), result_ttl=3600,
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
        from badgehub.jobs import tasks

        while True:
            item = self.jobs.get()
            try:
                if item is None:
                    return
                name, args = item
                with self.app.app_context():
                    try:
                        tasks.run_task(name, *args)
                    except Exception:
                        # The job stays resumable (rows are pending until their chunk commits); keep serving.
                        log.exception("background job %s%r failed", name, args)
            finally:
                self.jobs.task_done()


_START_LOCK = threading.Lock()
SCHEDULED: Final = ("status_lists.refresh", "mail.purge")
"""Tasks run when a worker starts and then every ``STATUS_LIST_REFRESH_SECONDS`` (each is safe to run twice, by
two workers at once)."""


def refresh_interval(app: Flask) -> float:
    """Seconds between two runs of the :data:`SCHEDULED` tasks (``STATUS_LIST_REFRESH_SECONDS``; 0: never)."""
    return max(0.0, float(app.config.get("STATUS_LIST_REFRESH_SECONDS") or 0))


def start_schedule(app: Flask, submit: Callable[[str], None],
                   stop: threading.Event | None = None) -> threading.Thread | None:
    """Submit the :data:`SCHEDULED` tasks now and then every :func:`refresh_interval` seconds, from a daemon
    thread, until ``stop`` is set; None when the schedule is off. Status lists are valid a day and signed again in
    their second half, so an hourly run that is late, or missed by a restart, still leaves them valid."""
    interval = refresh_interval(app)
    if interval <= 0:
        return None
    stopped = stop or threading.Event()

    def loop() -> None:
        while not stopped.is_set():
            for name in SCHEDULED:
                try:
                    submit(name)
                except Exception:
                    log.exception("could not schedule %s", name)
            stopped.wait(interval)

    thread = threading.Thread(target=loop, name="badgehub-schedule", daemon=True)
    thread.start()
    return thread


def start_in_process_worker(app: Flask, *, resume: bool = True) -> InProcessWorker:
    """The app's in-process worker, started (once per process) and, when just started, asked to resume the
    batches a previous process left unfinished and given the :data:`SCHEDULED` tasks (not in tests that ask
    for no resumption)."""
    with _START_LOCK:
        worker: InProcessWorker | None = app.extensions.get(EXTENSION)
        if worker is None:
            worker = InProcessWorker(app)
            app.extensions[EXTENSION] = worker
            worker.thread.start()
            if resume:
                worker.submit("batches.resume")
                start_schedule(app, worker.submit)
    return worker


SWEEPER: Final = "badgehub_sweeper"


def sweep(app: Flask) -> list[int]:
    """Hand every orphaned batch (its worker died, or its job was lost) to the queue again, and clear RQ's
    registries of jobs whose worker vanished; returns the ids of the batches handed over.

    Each batch gets a short lease in the queue's name first, so that several web processes and workers
    sweeping at once enqueue it once.
    """
    from badgehub.db import run_with_retry, writing
    from badgehub.extensions import db
    from badgehub.issuing import batches

    seconds = lease_seconds(app)

    def hand_over() -> list[int]:
        handed = []
        for batch_id in batches.orphaned_batch_ids(seconds=seconds):
            batch = batches.lock_batch(batch_id)
            if batch is not None and batches.take_lease(batch, batches.QUEUE_LEASE_OWNER, seconds=seconds):
                handed.append(batch_id)
        db.session.commit()
        return handed

    with app.app_context(), writing():
        try:
            handed = run_with_retry(hand_over)
        finally:
            db.session.remove()
        for batch_id in handed:
            log.warning("batch %s had no live worker: handed to the queue again", batch_id)
            enqueue(app, "batches.run", batch_id)
    if backend(app) == "rq":
        _sweep_rq_registries(app)
    return handed


def _sweep_rq_registries(app: Flask) -> None:
    # A worker killed with SIGKILL leaves its job "started" for ever; cleanup() moves such jobs to the failed
    # registry (their batches are resumed through their leases). Failed jobs are kept for reading, not retried:
    # the lease is what resumes work, exactly once.
    queue = rq_queue(app)
    try:
        queue.started_job_registry.cleanup()
        queue.failed_job_registry.cleanup()
    except Exception:
        log.exception("could not sweep the RQ registries")


class Sweeper:
    """A daemon thread that, every half lease, sweeps (:func:`sweep`) and delivers the outbox's due messages
    (retries, and messages a crashed sender left claimed), in a web process or a worker."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="badgehub-sweeper", daemon=True)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def _loop(self) -> None:
        interval = lease_seconds(self.app) / 2
        while not self.stopped.wait(interval):
            try:
                sweep(self.app)
            except Exception:
                log.exception("sweeping orphaned batches failed; trying again later")
            try:
                from badgehub.outbox.sender import run_round

                run_round(self.app)
            except Exception:
                log.exception("the outbox round failed; trying again later")


def start_sweeper(app: Flask) -> Sweeper:
    """The app's sweeper thread, started once per process."""
    with _START_LOCK:
        sweeper: Sweeper | None = app.extensions.get(SWEEPER)
        if sweeper is None:
            sweeper = Sweeper(app)
            app.extensions[SWEEPER] = sweeper
            sweeper.thread.start()
    return sweeper


def init_app(app: Flask) -> None:
    """Start the background threads of a web process with its first request: the sweeper (batches whose worker
    died go to the queue again, whatever the backend; the outbox's due messages leave) and, without Redis, the
    in-process worker, which first resumes the batches the previous process left unfinished. Never in tests,
    which run jobs themselves."""

    def start_background_threads() -> None:
        if app.testing:
            return
        if SWEEPER not in app.extensions:
            start_sweeper(app)
        if EXTENSION in app.extensions or backend(app) != "thread":
            return
        start_in_process_worker(app)

    app.before_request(start_background_threads)

"""``badgehub worker`` (run background jobs from Redis) and ``badgehub batches resume|run``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from badgehub import jobs
from badgehub.db import writing
from badgehub.jobs import tasks


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty instead of waiting for more jobs.")
@click.option("--no-resume", is_flag=True, help="Do not resume the batches left unfinished before starting.")
@with_appcontext
def worker_command(burst: bool, no_resume: bool) -> None:
    """Run background jobs (CSV batches, the status lists' refresh) from the Redis queue; needs
    BADGEHUB_REDIS_URL."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("BADGEHUB_REDIS_URL is not set: without Redis, jobs run in the web process.")
    from rq import SimpleWorker

    queue = jobs.rq_queue(app)
    if not no_resume:
        queue.enqueue_call("badgehub.jobs.entry.perform", args=("batches.resume",), result_ttl=3600)
    if not burst:
        jobs.start_schedule(app, lambda name: queue.enqueue_call("badgehub.jobs.entry.perform", args=(name,),
                                                                 result_ttl=3600))
        jobs.start_sweeper(app)
    # SimpleWorker runs jobs in this process, inside this application context (no fork: the database pool
    # and the decrypted-key cache are reused from job to job).
    SimpleWorker([queue], connection=queue.connection).work(burst=burst)


@click.group("batches")
def batches_group() -> None:
    """CSV batches: resume those a crash or a restart left unfinished."""


@batches_group.command("resume")
@with_appcontext
def resume_command() -> None:
    """Issue the rest of every batch left queued or running (safe to run at any time: nothing is issued twice)."""
    ids = tasks.run_task("batches.resume")
    click.echo(f"resumed {len(ids)} batch(es)" + (f": {', '.join(map(str, ids))}" if ids else ""))


@batches_group.command("run")
@click.argument("batch_id", type=int)
@click.option("--chunk-rows", type=click.IntRange(1, 1000), default=None,
              help="Rows issued per committed chunk (default 50).")
@with_appcontext
def run_command(batch_id: int, chunk_rows: int | None) -> None:
    """Issue the pending rows of one confirmed batch now, in this process."""
    with writing():
        state = tasks.run_batch(batch_id, chunk_rows=chunk_rows)
    if state is None:
        raise click.ClickException(f"batch {batch_id} does not exist or is not confirmed")
    click.echo(f"batch {batch_id}: {state}")


COMMANDS = [worker_command, batches_group]

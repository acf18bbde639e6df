"""The RQ entry point: what a queued job names (``badgehub.jobs.entry.perform``).

It may build the app with the factory (a bare ``rq worker``), so it lives apart from the tasks, which the
factory's commands import: nothing imports this module, RQ finds it by name.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_app_context

from badgehub import create_app
from badgehub.jobs.tasks import run_task

_PROCESS_APP: dict[str, Flask] = {}


def perform(name: str, *args: Any) -> Any:
    """Run the task ``name``: the RQ entry point. Inside an application context (``badgehub worker``, tests)
    it runs there; otherwise (a bare ``rq worker``) it builds the app once per process from the environment."""
    if has_app_context():
        return run_task(name, *args)
    if "app" not in _PROCESS_APP:
        _PROCESS_APP["app"] = create_app()
    with _PROCESS_APP["app"].app_context():
        return run_task(name, *args)

"""Child processes that a test kills at one step (SIGKILL) to show what survives a crash.

A new interpreter spends about 1.4 s of CPU importing BadgeHub before the step it is there for. The children
are forked instead from a server process that imported it once per test process (multiprocessing's
``forkserver``): each is still a process of its own, with nothing of the test's state, threads or database
connections, that dies without any clean-up.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

# What every child imports anyway (the app's modules, through tests.children_preload); imported once, in the
# server, before it forks.
PRELOAD = ["badgehub", "badgehub.cli", "badgehub.jobs.tasks", "badgehub.outbox.sender", "tests.conftest",
           "tests.children_preload"]

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)


def run_python(code: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float) -> tuple[int, str]:
    """Run ``code`` as ``python -c code *argv`` would, with exactly ``env`` as its environment; return its exit
    code (negative: the signal that ended it) and what it wrote to stdout and stderr."""
    with tempfile.NamedTemporaryFile(prefix="child-", suffix=".log") as output:
        child = _CONTEXT.Process(target=_run, args=(code, list(argv), dict(env), str(cwd), output.name))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            shown = Path(output.name).read_text(errors="replace")[-3000:]
            raise TimeoutError(f"the child was still running after {timeout} s: {shown}")
        return int(child.exitcode or 0), Path(output.name).read_text(errors="replace")


def stop_server() -> None:
    """Stop the server (if it was started) and wait for it: its children's CPU time is then counted in this
    process's, and it does not outlive the test session."""
    # multiprocessing has no public way to stop its forkserver; this is what its own tests call.
    multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]


def _run(code: str, argv: list[str], env: dict[str, str], cwd: str, output: str) -> None:
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    descriptor = os.open(output, os.O_WRONLY | os.O_APPEND)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    sys.argv = ["-c", *argv]
    exec(compile(code, "<child>", "exec"), {"__name__": "__main__"})

"""Shared fixtures for the proof-engine tests (contexts, canonical form, keys, Data Integrity, VC-JWT).

The example credentials live in ``../shared/ob3-examples`` next to the repository; tests that need
them skip with a clear reason when that folder is absent.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = REPO_ROOT.parent / "shared" / "ob3-examples"
SHARED_CONTEXTS = REPO_ROOT.parent / "shared" / "ob3-contexts"


@pytest.fixture
def examples_dir() -> Path:
    """The shared examples folder; the test is skipped when it is absent."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared example credentials not found at {EXAMPLES}")
    return EXAMPLES


@pytest.fixture
def load_example(examples_dir: Path) -> Callable[[str], Any]:
    """Return a function that parses one JSON example by file name."""

    def load(name: str) -> Any:
        return json.loads((examples_dir / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def example_text(examples_dir: Path) -> Callable[[str], str]:
    """Return a function that reads one example file's text, stripped (JWT files end with a newline)."""

    def read(name: str) -> str:
        return (examples_dir / name).read_text(encoding="utf-8").strip()

    return read


@pytest.fixture
def testvector(load_example: Callable[[str], Any]) -> dict[str, Any]:
    """The published OB 3.0 Data Integrity test vector: key, proof options and expected values."""
    data: dict[str, Any] = load_example("ob3-v2-testvector-key.json")
    return data


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make every attempt to open a connection or resolve a name fail loudly, and record it."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> Any:
        attempts.append(repr(args)[:200])
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts


@pytest.fixture
def shared_contexts_dir() -> Path:
    """The shared pinned-contexts folder; the test is skipped when it is absent."""
    if not SHARED_CONTEXTS.is_dir():
        pytest.skip(f"shared contexts not found at {SHARED_CONTEXTS}")
    return SHARED_CONTEXTS

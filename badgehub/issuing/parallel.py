"""Signing many credentials on every core: a pool of worker processes that only sign (and draw QR codes).

A batch (a CSV chunk, the API's batch) builds its documents in the issuing process, then hands them to the
pool: each worker signs with Data Integrity and as a VC-JWT (pure work, no database, no Flask), and the issuing
process stores what comes back in one short transaction. One process per core (``SIGNING_PROCESSES``, default
the number of cores; 1 or less signs in the issuing process itself, as do small batches).

Starting the processes costs seconds (each is a fresh interpreter that imports the engine), a signature a few
milliseconds. A pool is *ready* once each of its processes has started and imported the engine. A batch finding
no ready pool starts one in the background and signs in the issuing process meanwhile, a few documents at a
time, handing what is left to the pool as soon as it is ready (an association's batch of 40, or a web worker's
first API batch of 100, would otherwise wait for the pool longer than it takes to sign). From
``SIGNING_POOL_FROM`` documents a batch waits for the pool instead (the tests use it to run the parallel path).

The workers are started with ``spawn`` (a fresh interpreter, never a fork of a process holding database
connections and threads) once per issuing process, and kept. The private keys travel to them over the pool's
pipe, to a child of the same process and user, and are parsed once per worker (an RSA key costs about 40 ms to
load): nothing leaves the machine, and nothing is written anywhere.
"""

from __future__ import annotations

import atexit
import hashlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

# One document is signed where it is; from two on, a ready pool (the pipe costs well under a signature).
MIN_PARALLEL: Final = 2
# From this many documents a batch waits for a pool that is not ready, instead of signing here until it is.
POOL_FROM: Final = 500
# Documents signed here between two looks at whether the pool is ready (a few milliseconds each).
_HERE_SLICE: Final = 4


@dataclass(frozen=True)
class KeyMaterial:
    """What a worker needs to sign in one organisation's name (private keys as PKCS#8 DER): made by
    :func:`badgehub.issuing.signing.material_of` (this module imports nothing of the app, for the workers)."""

    ed25519: bytes = field(repr=False)
    jwt_key: bytes = field(repr=False)
    verification_method: str
    jwt_kid: str
    jwt_alg: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.ed25519 + self.jwt_key).hexdigest()


_WORKER_KEYS: dict[str, tuple[Any, Any]] = {}


def _keys(material: KeyMaterial) -> tuple[Any, Any]:
    keys = _WORKER_KEYS.get(material.fingerprint)
    if keys is None:
        from cryptography.hazmat.primitives.serialization import load_der_private_key

        keys = (load_der_private_key(material.ed25519, None), load_der_private_key(material.jwt_key, None))
        _WORKER_KEYS.clear()  # one organisation at a time is the common case; never grow without bound
        _WORKER_KEYS[material.fingerprint] = keys
    return keys


def sign_many(material: KeyMaterial, created: str, documents: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Sign each built credential (Data Integrity, then the VC-JWT over the signed JSON) and return the stored
    JSON and token of each, in order. Runs in a worker (or inline). Raises ``CredentialError``."""
    from badgehub.credentials.data_integrity import sign_data_integrity
    from badgehub.credentials.documents import to_json
    from badgehub.credentials.vc_jwt import sign_vc_jwt

    ed25519, jwt_key = _keys(material)
    results = []
    for document in documents:
        signed = sign_data_integrity(document, ed25519, material.verification_method, created, own_document=True)
        results.append((to_json(signed), sign_vc_jwt(signed, jwt_key, material.jwt_kid, alg=material.jwt_alg)))
    return results


def sign_and_draw(material: KeyMaterial, created: str, documents: Sequence[Mapping[str, Any]], texts: Sequence[str],
                  scale: int) -> tuple[list[tuple[str, str]], list[bytes]]:
    """:func:`sign_many`, then the PNG QR codes of ``texts`` (``qr_png(text, scale=scale)``, in order): a batch's
    e-mails' codes drawn with its signatures, in one trip to a worker. Runs in a worker (or inline)."""
    return sign_many(material, created, documents), _qr_pngs(texts, scale)


_POOL: dict[str, Any] = {}
_POOL_LOCK = threading.Lock()


def processes(config: Mapping[str, Any]) -> int:
    """How many signing processes to use: ``SIGNING_PROCESSES``, else one per core."""
    chosen = config.get("SIGNING_PROCESSES")
    return int(chosen) if chosen is not None else (os.cpu_count() or 1)


def pool_from(config: Mapping[str, Any]) -> int:
    """From how many documents a pool that is not running yet is started and waited for: ``SIGNING_POOL_FROM``."""
    chosen = config.get("SIGNING_POOL_FROM")
    return int(chosen) if chosen is not None else POOL_FROM


def _running(workers: int, registry: dict[str, Any]) -> bool:
    return (registry.get("pool") is not None and registry.get("pid") == os.getpid()
            and registry.get("workers") == workers)


def _ready(workers: int, registry: dict[str, Any]) -> bool:
    """Whether the pool runs and each of its processes has started (a pool started a moment ago has not: a batch
    sent to it would wait seconds for fresh interpreters)."""
    return _running(workers, registry) and all(future.done() for future in registry.get("started", ()))


def _where(count: int, registry: dict[str, Any], config: Mapping[str, Any]) -> str:
    """Where ``count`` documents go: ``"pool"`` when it is ready (from two on) or when the batch is worth waiting
    for it; ``"here"`` for one document or with one process; otherwise ``"starting"``: the pool is started in
    the background (if it is not starting already) and the caller works in this process meanwhile."""
    workers = processes(config)
    if workers <= 1 or count < MIN_PARALLEL:
        return "here"
    if _ready(workers, registry) or count >= pool_from(config):
        return "pool"
    if not _running(workers, registry):
        _start(workers, registry)
    return "starting"


def _watch_parent(parent: int) -> None:
    """In each worker: leave as soon as the issuing process is gone (killed with SIGKILL, it cannot stop its pool),
    so that no orphan keeps its keys in memory or its parent's pipes open."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="badgehub-signing-watch", daemon=True).start()


def _pool(workers: int, registry: dict[str, Any] | None = None) -> ProcessPoolExecutor:
    chosen = _POOL if registry is None else registry
    with _POOL_LOCK:
        pool: ProcessPoolExecutor | None = chosen.get("pool")
        if pool is None or chosen.get("pid") != os.getpid() or chosen.get("workers") != workers:
            if pool is not None and chosen.get("pid") == os.getpid():
                pool.shutdown(wait=False)  # another size asked for: its processes end once their work is done
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_watch_parent, initargs=(os.getpid(),))
            chosen.update(pool=pool, pid=os.getpid(), workers=workers)
        return pool


# QR codes asked for apart from signatures (the e-mails of the API's batch, a CSV chunk planned again) are drawn
# on processes of their own: on the signing pool they would queue behind the next chunk's signatures.
_QR_POOL: dict[str, Any] = {}


def shutdown() -> None:
    """Stop the workers (at exit, and in tests that want a fresh pool)."""
    with _POOL_LOCK:
        for registry in (_POOL, _QR_POOL):
            pool = registry.pop("pool", None)
            if pool is not None and registry.get("pid") == os.getpid():
                pool.shutdown(wait=True, cancel_futures=True)
            registry.clear()


atexit.register(shutdown)


def _warm() -> int:
    """In a worker that just started: import the engine (a second or so), so that the pool is ready to sign."""
    from badgehub.credentials import data_integrity, documents, vc_jwt  # noqa: F401
    from badgehub.printing import qr  # noqa: F401

    return os.getpid()


def _start(workers: int, registry: dict[str, Any]) -> None:
    """Start ``workers`` processes of a pool now, without waiting for them (:func:`_ready` says when they are)."""
    pool = _pool(workers, registry)
    registry["started"] = [pool.submit(_warm) for _ in range(workers)]


def warm_up(config: Mapping[str, Any], documents: int) -> None:
    """Start the signing processes now, without waiting for them, if ``documents`` are worth them (a batch job
    does this first: the processes, seconds to start, are then ready when its first chunk needs them). A batch
    job's QR codes are drawn with its signatures (:func:`submit_with_codes`): the QR processes are left to
    start when something asks them for codes."""
    workers = processes(config)
    if workers > 1 and documents >= pool_from(config) and not _running(workers, _POOL):
        _start(workers, _POOL)


def _qr_pngs(texts: Sequence[str], scale: int) -> list[bytes]:
    from badgehub.printing.qr import qr_png

    return [qr_png(text, scale=scale) for text in texts]


def qr_pngs(texts: Sequence[str], scale: int, *, config: Mapping[str, Any],
            on_signing_pool: bool = False) -> list[bytes]:
    """The PNG QR codes of ``texts`` (``qr_png(text, scale=scale)``), drawn on every core when there are several
    (processes of their own, started like the signing ones): a batch's e-mails each carry one (the wallet
    offer), a few milliseconds each. In order. ``on_signing_pool``: drawn by the signing processes instead (a
    batch job's codes not drawn with their signatures, which is rare: no QR processes started for them)."""
    registry = _POOL if on_signing_pool else _QR_POOL
    if _where(len(texts), registry, config) != "pool":
        return _qr_pngs(texts, scale)
    workers = processes(config)
    size = max(1, -(-len(texts) // workers))
    futures = [_pool(workers, registry).submit(_qr_pngs, list(texts[start:start + size]), scale)
               for start in range(0, len(texts), size)]
    return [png for future in futures for png in future.result()]


Signing = Callable[[], tuple[list[tuple[str, str]], list[bytes]]]
"""Waits for the signatures started by :func:`submit_with_codes` and returns them with the QR codes, in order."""


def submit_all(material: KeyMaterial, created: str, documents: Sequence[Mapping[str, Any]], *,
               config: Mapping[str, Any]) -> Callable[[], list[tuple[str, str]]]:
    """Sign ``documents`` on :func:`processes` cores (in this process for a few, or with one process), started
    now: the pool signs while the caller does something else, and the function returned waits for the results,
    in order (raising ``CredentialError`` then: the first document the engine refuses). Without the pool, the
    signing is done when the function is called."""
    signing = submit_with_codes(material, created, documents, (), 1, config=config)
    return lambda: signing()[0]


def submit_with_codes(material: KeyMaterial, created: str, documents: Sequence[Mapping[str, Any]],
                      texts: Sequence[str], scale: int, *, config: Mapping[str, Any]) -> Signing:
    """:func:`submit_all`, with the PNG QR codes of ``texts`` drawn by the same processes along with the
    signatures: ``texts`` is empty or has one text per document (each drawn where its document is signed)."""
    if texts and len(texts) != len(documents):
        raise ValueError("one QR code per document, or none")
    where = _where(len(documents), _POOL, config)
    if where == "here":
        return lambda: sign_and_draw(material, created, documents, texts, scale)
    if where == "starting":
        return lambda: _sign_here_until_ready(material, created, documents, texts, scale, config)
    return _submit(material, created, documents, texts, scale, processes(config))


def _submit(material: KeyMaterial, created: str, documents: Sequence[Mapping[str, Any]], texts: Sequence[str],
            scale: int, workers: int) -> Signing:
    # A few slices per worker: the pipe carries fewer, bigger messages, and a slow slice does not idle a core.
    size = max(1, -(-len(documents) // (workers * 2)))
    futures = [_pool(workers).submit(sign_and_draw, material, created, list(documents[start:start + size]),
                                     list(texts[start:start + size]), scale)
               for start in range(0, len(documents), size)]

    def results() -> tuple[list[tuple[str, str]], list[bytes]]:
        parts = [future.result() for future in futures]
        return [pair for signed, _codes in parts for pair in signed], [png for _signed, codes in parts for png in codes]

    return results


def _sign_here_until_ready(material: KeyMaterial, created: str, documents: Sequence[Mapping[str, Any]],
                           texts: Sequence[str], scale: int,
                           config: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[bytes]]:
    """Sign (and draw) in this process a few documents at a time while the pool starts; what is left when it is
    ready (two documents or more) goes to it."""
    workers = processes(config)
    signed: list[tuple[str, str]] = []
    codes: list[bytes] = []
    done = 0
    while done < len(documents):
        if len(documents) - done >= MIN_PARALLEL and _ready(workers, _POOL):
            more_signed, more_codes = _submit(material, created, documents[done:], texts[done:], scale, workers)()
            return signed + more_signed, codes + more_codes
        part_signed, part_codes = sign_and_draw(material, created, documents[done:done + _HERE_SLICE],
                                                texts[done:done + _HERE_SLICE], scale)
        signed.extend(part_signed)
        codes.extend(part_codes)
        done += _HERE_SLICE
    return signed, codes

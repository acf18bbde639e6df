"""A batch's signatures when the signing pool is not running yet: waiting for it, or signing here until it is ready.

Run: ``.venv/bin/python bench/signing_pool.py [--sizes 20,100,500,1000,2000] [--rounds 2]``

For each size, ``--rounds`` times: the pool is stopped (a process that has not issued a batch yet, such as a web
worker after a restart), then the batch's documents (``bench/credentials.py``'s realistic credential) are signed
through :func:`badgehub.issuing.parallel.submit_all` with ``SIGNING_PROCESSES`` 2 and

* ``wait``: ``SIGNING_POOL_FROM`` 2, the batch waits for the processes to start, then they sign it;
* ``here``: ``SIGNING_POOL_FROM`` above the size, the batch is signed in this process, a few documents at a time,
  until the pool is ready, and what is left goes to it;
* ``ready`` (once per size, for comparison): the pool already running.

Prints the wall time of each, the best of the rounds, with the load average. ``SIGNING_POOL_FROM`` (the smallest
batch that waits) is worth setting where ``wait`` becomes faster than ``here``, if it ever does.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from credentials import CREATED, VERIFICATION_METHOD, realistic_credential  # noqa: E402

from badgehub.credentials.keys import ed25519_private_key_from_seed, generate_rsa  # noqa: E402
from badgehub.issuing import parallel  # noqa: E402


def _material() -> parallel.KeyMaterial:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    def der(key: object) -> bytes:
        return bytes(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))  # type: ignore[attr-defined]

    return parallel.KeyMaterial(ed25519=der(ed25519_private_key_from_seed(bytes(32))), jwt_key=der(generate_rsa(2048)),
                                verification_method=VERIFICATION_METHOD, jwt_kid=VERIFICATION_METHOD, jwt_alg="RS256")


def _timed(material: parallel.KeyMaterial, size: int, pool_from: int, *, cold: bool) -> float:
    document = realistic_credential()
    config = {"SIGNING_PROCESSES": 2, "SIGNING_POOL_FROM": pool_from}
    if cold:
        parallel.shutdown()
    start = time.perf_counter()
    signed = parallel.submit_all(material, CREATED, [document] * size, config=config)()
    elapsed = time.perf_counter() - start
    assert len(signed) == size
    return elapsed


def main() -> int:
    """Measure, print, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,100,500,1000,2000", help="Batch sizes, comma-separated.")
    parser.add_argument("--rounds", type=int, default=2, help="Cold starts per size and mode (the best is kept).")
    options = parser.parse_args()
    material = _material()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'documents':>9} {'wait (s)':>9} {'here (s)':>9} {'ready (s)':>9}")
    for size in (int(part) for part in options.sizes.split(",")):
        wait = min(_timed(material, size, 2, cold=True) for _ in range(options.rounds))
        here = min(_timed(material, size, size + 1, cold=True) for _ in range(options.rounds))
        for _ in range(50):  # let the pool the last round started become ready
            if parallel._ready(2, parallel._POOL):
                break
            time.sleep(0.1)
        ready = _timed(material, size, 2, cold=False)
        print(f"{size:>9} {wait:>9.2f} {here:>9.2f} {ready:>9.2f}")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    parallel.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

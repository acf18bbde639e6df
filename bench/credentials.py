"""Credential signing and verification throughput: BadgeHub (Python) against the JavaScript peer.

Run: ``.venv/bin/python bench/credentials.py [--seconds 2] [--no-js]``

One realistic OB 3.0 credential (built with ``badgehub.credentials.documents.build_credential``: an
achievement with three alignments, one evidence, a ``BitstringStatusListEntry`` and a hashed, salted
e-mail identifier) is signed and verified again and again, for at least ``--seconds`` per figure:

* ``eddsa-rdfc-2022``: Data Integrity proof (two RDFC-1.0 canonicalisations per operation), signed the general
  way (JSON-LD expansion, what any document gets) and the way issuing signs the credentials it builds
  (``own_document=True``: the RDF written directly, :mod:`badgehub.credentials.direct_rdf`); both are compared
  with the JavaScript peer's signing;
* ``RS256 VC-JWT``: compact JWS with a 2048-bit RSA key;
* ``both``: a Data Integrity proof inside an RS256 VC-JWT (sign: DI then JWT; verify: JWT then DI).

The JavaScript figures come from the interop peer (``tests/interop/peer.mjs``: jsonld-signatures,
``@digitalbazaar/eddsa-rdfc-2022-cryptosuite``, jose) measured inside node on the same credential in
the same run; install it with ``npm ci --prefix tests/interop --no-audit --no-fund``.  The JS
verification also runs its proof-purpose check (it loads the controller document from a static
loader); ours checks the signature only (key resolution is the verification pipeline's job).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from badgehub.credentials import documents, status_list  # noqa: E402
from badgehub.credentials.data_integrity import sign_data_integrity, verify_data_integrity_proof  # noqa: E402
from badgehub.credentials.keys import ed25519_private_key_from_seed, generate_rsa  # noqa: E402
from badgehub.credentials.vc_jwt import decode_vc_jwt, sign_vc_jwt, verify_vc_jwt_signature  # noqa: E402

VERIFICATION_METHOD = "https://issuer.example/orgs/7#key-1"
CREATED = "2026-03-01T12:00:00Z"
PEER = ROOT / "tests" / "interop" / "peer.mjs"


def realistic_credential() -> dict[str, Any]:
    """The benchmark credential (about 1.8 KB of JSON)."""
    achievement = documents.AchievementDefinition(
        id="https://issuer.example/achievements/42",
        name="Web accessibility audit",
        description="Can audit a web page against WCAG 2.2 level AA and report the findings.",
        criteria_narrative="Audit three pages of a public site and present the report to a mentor.",
        alignments=tuple(
            documents.Alignment(
                target_name=f"Skill {i}",
                target_url=f"https://framework.example/skills/{i}",
                target_code=f"S{i}",
                target_framework="ESCO",
                target_type="CFItem",
            )
            for i in range(3)
        ),
    )
    issuer = documents.IssuerProfile(
        id="https://issuer.example/orgs/7", name="Territoire apprenant", url="https://issuer.example/"
    )
    return documents.build_credential(
        credential_id="urn:uuid:0b2d3a4e-1f00-4a00-8000-00000000c0de",
        issuer=issuer,
        achievement=achievement,
        recipient=documents.Recipient(email="learner@example.org", salt="c2FsdHNhbHQ"),
        valid_from="2026-01-01T00:00:00Z",
        evidence=[
            documents.Evidence(id="https://issuer.example/evidence/1", name="Report", narrative="Audited three pages.")
        ],
        credential_status=status_list.status_list_entry("https://issuer.example/status/1", 94567),
    )


def rate(operation: Callable[[], object], seconds: float, minimum: int = 5) -> float:
    """Operations per second: one warm-up call, then at least ``minimum`` calls and ``seconds``."""
    operation()
    count = 0
    start = time.perf_counter()
    elapsed = 0.0
    while count < minimum or elapsed < seconds:
        operation()
        count += 1
        elapsed = time.perf_counter() - start
    return count / elapsed


def python_figures(credential: dict[str, Any], seconds: float) -> dict[str, float]:
    """BadgeHub's figures for the six operations."""
    ed_key = ed25519_private_key_from_seed(bytes(32))
    rsa_key = generate_rsa(2048)
    signed = sign_data_integrity(credential, ed_key, VERIFICATION_METHOD, CREATED)
    token = sign_vc_jwt(credential, rsa_key, VERIFICATION_METHOD)
    both = sign_vc_jwt(signed, rsa_key, VERIFICATION_METHOD)

    def verify_di(document: dict[str, Any]) -> None:
        verify_data_integrity_proof(document, document["proof"][0], ed_key.public_key())

    def verify_both() -> None:
        verify_vc_jwt_signature(both, rsa_key.public_key())
        verify_di(decode_vc_jwt(both).credential)

    return {
        "di_sign": rate(lambda: sign_data_integrity(credential, ed_key, VERIFICATION_METHOD, CREATED), seconds),
        "di_sign_own": rate(
            lambda: sign_data_integrity(credential, ed_key, VERIFICATION_METHOD, CREATED, own_document=True), seconds
        ),
        "di_verify": rate(lambda: verify_di(signed), seconds),
        "jwt_sign": rate(lambda: sign_vc_jwt(credential, rsa_key, VERIFICATION_METHOD), seconds),
        "jwt_verify": rate(lambda: verify_vc_jwt_signature(token, rsa_key.public_key()), seconds),
        "both_sign": rate(
            lambda: sign_vc_jwt(
                sign_data_integrity(credential, ed_key, VERIFICATION_METHOD, CREATED), rsa_key, VERIFICATION_METHOD
            ),
            seconds,
        ),
        "both_sign_own": rate(
            lambda: sign_vc_jwt(
                sign_data_integrity(credential, ed_key, VERIFICATION_METHOD, CREATED, own_document=True),
                rsa_key,
                VERIFICATION_METHOD,
            ),
            seconds,
        ),
        "both_verify": rate(verify_both, seconds),
    }


def js_figures(credential: dict[str, Any], seconds: float) -> dict[str, float] | None:
    """The JavaScript peer's figures, or None when node or the peer's node_modules are missing."""
    node = shutil.which("node")
    if node is None or not (PEER.parent / "node_modules").is_dir():
        return None
    request = json.dumps({"id": 1, "op": "bench", "document": credential, "seconds": seconds}) + "\n"
    completed = subprocess.run(
        [node, str(PEER)], input=request, capture_output=True, text=True, cwd=PEER.parent, timeout=600, check=True
    )
    answer = json.loads(completed.stdout.splitlines()[0])
    if not answer["ok"]:
        raise RuntimeError(f"JS peer: {answer['error']}")
    return {key: float(value) for key, value in answer["result"].items()}


ROWS = [
    ("eddsa-rdfc-2022", "sign", "di_sign"),
    ("eddsa-rdfc-2022 own doc", "sign", "di_sign_own"),
    ("eddsa-rdfc-2022", "verify", "di_verify"),
    ("RS256 VC-JWT", "sign", "jwt_sign"),
    ("RS256 VC-JWT", "verify", "jwt_verify"),
    ("both (DI inside JWT)", "sign", "both_sign"),
    ("both, own document", "sign", "both_sign_own"),
    ("both (DI inside JWT)", "verify", "both_verify"),
]


def main() -> int:
    """Measure, print the table, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum time per figure (default 2)")
    parser.add_argument("--no-js", action="store_true", help="skip the JavaScript peer")
    arguments = parser.parse_args()

    credential = realistic_credential()
    size = len(json.dumps(credential, separators=(",", ":")).encode("utf-8"))
    ours = python_figures(credential, arguments.seconds)
    theirs = None if arguments.no_js else js_figures(credential, arguments.seconds)

    node_version = (
        subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        if shutil.which("node")
        else "-"
    )
    print(
        f"credential: {size} bytes of JSON; Python {platform.python_version()}, "
        f"node {node_version}, {platform.machine()}"
    )
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} (the JS peer runs after ours)")
    print(f"{'proof':<24} {'operation':<8} {'BadgeHub /s':>12} {'JS peer /s':>11} {'ours / JS':>10}")
    for label, operation, key in ROWS:
        js_key = key.removesuffix("_own")  # the peer signs any document one way
        js = f"{theirs[js_key]:11.1f}" if theirs else f"{'n/a':>11}"
        ratio = f"{ours[key] / theirs[js_key]:10.2f}" if theirs else f"{'n/a':>10}"
        print(f"{label:<24} {operation:<8} {ours[key]:12.1f} {js} {ratio}")
    if theirs is None and not arguments.no_js:
        print("JS peer not installed: npm ci --prefix tests/interop --no-audit --no-fund")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

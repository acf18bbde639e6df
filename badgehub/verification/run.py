"""The state one OB 3.0 credential (or endorsement, or status list) carries through the checks.

Each check of :mod:`badgehub.verification.checks` takes a :class:`Run` and returns a
:class:`~badgehub.verification.report.Check`; the :class:`Verifier` it reaches through ``run.verifier``
is the pipeline (:mod:`badgehub.verification.pipeline`), which also verifies nested documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from badgehub.credentials.documents import string_values
from badgehub.credentials.status_list import LIST_CREDENTIAL_TYPE
from badgehub.verification.parse import Parsed
from badgehub.verification.report import Check, VerificationReport
from badgehub.verification.resolver import ResolvedKey, Resolver

OB_TYPES: Final = frozenset({"OpenBadgeCredential", "AchievementCredential"})
T = TypeVar("T")


class Verifier(Protocol):
    """What the checks need from the pipeline running them."""

    resolver: Resolver
    now: datetime
    schema_path: Path | None

    def pure(self, kind: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T: ...

    def fetch(self, url: str) -> object: ...

    def parse(self, data: object) -> Parsed: ...

    def verify_credential(
        self, parsed: Parsed, parse_check: Check, known_recipient: str | None, *, depth: int, expect: str | None
    ) -> VerificationReport: ...


@dataclass
class Run:
    """The state of one OB 3.0 credential (or endorsement) through the checks."""

    verifier: Verifier
    parsed: Parsed
    known_recipient: str | None
    depth: int
    expect: str | None
    report: VerificationReport = field(init=False)
    vc_version: str | None = None
    key: ResolvedKey | None = None
    proof_ok: bool = False
    signed_at: datetime | None = None

    @property
    def credential(self) -> dict[str, Any]:
        return self.parsed.credential

    @property
    def is_jwt(self) -> bool:
        return self.parsed.token is not None

    @property
    def kind(self) -> str:
        """``status_list``, ``endorsement`` or ``ob`` (what the document says it is)."""
        types = string_values(self.credential.get("type"))
        if LIST_CREDENTIAL_TYPE in types:
            return "status_list"
        if "EndorsementCredential" in types:
            return "endorsement"
        return "ob"

    @property
    def is_endorsement(self) -> bool:
        return self.kind == "endorsement"

    def dates(self) -> tuple[str | None, str | None]:
        """The validity dates as written (VC 2.0 names, else VC 1.1 names)."""
        credential = self.credential
        start = credential.get("validFrom", credential.get("issuanceDate"))
        end = credential.get("validUntil", credential.get("expirationDate"))
        return text_of(start), text_of(end)


def text_of(value: object) -> str | None:
    return value if isinstance(value, str) else None


def issuer_id_of(credential: Mapping[str, Any]) -> str | None:
    """The issuer id of a credential whose ``issuer`` is a URI or a Profile object."""
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping):
        return text_of(issuer.get("id"))
    return None


def show(moment: datetime) -> str:
    """A moment as the report's messages show it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

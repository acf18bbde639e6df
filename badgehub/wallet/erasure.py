"""Erasing a learner's account: personal data goes, signed documents stay as issued.

Other domains keep personal data keyed by e-mail (CSV batch rows, claims...). Each exposes a function
``erase_personal_data(email_keys: set[str]) -> int`` (rows changed) and lists it here by dotted path, so that
this module never imports them eagerly (no import cycles, and a domain still being written is skipped).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from badgehub.audit.service import record
from badgehub.extensions import db
from badgehub.wallet.errors import LastOwner

if TYPE_CHECKING:
    from badgehub.accounts.models import User

log = logging.getLogger(__name__)

# "module:function" of every other domain's eraser; each takes the set of e-mail keys of the person.
PERSONAL_DATA_ERASERS: tuple[str, ...] = (
    "badgehub.issuing.batches:erase_personal_data",
    "badgehub.claims.service:erase_personal_data",
    # The observatory keeps a SHA-256 of each learner's address: unlinked, so it cannot be matched any more.
    "badgehub.stats.service:forget_learners",
    # Every e-mail to them: queued, sent or failed (with its links, name and address).
    "badgehub.outbox.service:erase_personal_data",
)


def resolve_erasers(paths: tuple[str, ...] = PERSONAL_DATA_ERASERS) -> list[Callable[[set[str]], int]]:
    """The erasers that exist; a missing module or function is skipped (logged at debug level)."""
    found: list[Callable[[set[str]], int]] = []
    for path in paths:
        module_name, _, attribute = path.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            log.debug("personal-data eraser %s: module not found, skipped", path)
            continue
        function = getattr(module, attribute, None)
        if not callable(function):
            log.debug("personal-data eraser %s: function not found, skipped", path)
            continue
        found.append(function)
    return found


def run_erasers(email_keys: set[str]) -> int:
    """Call every other domain's eraser with ``email_keys``; returns the total of rows they changed."""
    return sum(int(eraser(set(email_keys)) or 0) for eraser in resolve_erasers())


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure changed (counts only: nothing personal)."""

    credentials_blanked: int
    other_rows: int
    wallet: dict[str, int]


def erase_account(user: User, *, actor_id: int | None) -> ErasureResult:
    """Erase ``user``'s account: personal data goes, the signed documents stay as issued.

    1. Refuse with LastOwner when they are the only owner of an organisation (they hand over first).
    2. The e-mail keys of the account and of its verified extra addresses are collected.
    3. Beside the credentials issued to those keys, the stored e-mail, name and holder DID are blanked and the
       key replaced by a tombstone that matches no address; the signed documents (salted hashes) stay.
    4. Every other domain's eraser (:data:`PERSONAL_DATA_ERASERS`) forgets what it keeps for those keys.
    5. Addresses, shares, imported badges, holder DID, one-time links and staff invitations to those
       addresses go; then the user row itself is deleted
       (every foreign key to ``users`` is ``ON DELETE CASCADE`` — memberships, coordinator roles — or
       ``SET NULL`` — "created by" columns), which also ends every session: the session loader finds nobody.
    6. An audit event ``account.erased`` records the id and counts, never the address.

    Flushes; the caller commits. Raises LastOwner.
    """
    from badgehub.wallet import service

    alone = service.owned_alone(user)
    if alone:
        names = ", ".join(organisation.name for organisation in alone)
        raise LastOwner(names, details={"organisations": [organisation.slug for organisation in alone]})
    keys = service.keys_for_erasure(user)
    blanked = service.blank_issued_recipients(keys)
    others = run_erasers(keys)
    wallet = service.wipe_wallet(user, keys)
    user_id = user.id
    db.session.delete(user)
    db.session.flush()
    record("account.erased", actor_id=actor_id, subject_type="user", subject_id=user_id,
           details={"credentials_blanked": blanked, "other_rows": others, **wallet})
    db.session.flush()
    return ErasureResult(blanked, others, wallet)

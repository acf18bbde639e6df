"""Erasing a learner's account: personal data goes, signed documents stay as issued.

Other domains keep personal data keyed by e-mail (CSV batch rows, claims...). Each exposes a function
``erase_personal_data(email_keys: set[str]) -> int`` (rows changed) and lists it here by dotted path, so that
this module never imports them eagerly (no import cycles, and a domain still being written is skipped).
"""

from __future__ import annotations

import importlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from badgehub.accounts.addresses import verified_keys
from badgehub.accounts.models import EmailToken, User, WalletEmail, WalletProfile
from badgehub.audit.service import record
from badgehub.endorsements.service import erase_own_endorsements
from badgehub.extensions import db
from badgehub.issuing.models import ERASED_RECIPIENT_PREFIX, IssuedCredential
from badgehub.issuing.service import erased_idempotency_key
from badgehub.organisations.models import Invitation, OrganisationMember, Role
from badgehub.outbox import service as outbox
from badgehub.wallet.errors import LastOwner
from badgehub.wallet.models import ImportedCredential, WalletShare, WalletShareItem

log = logging.getLogger(__name__)

# "module:function" of every other domain's eraser; each takes the set of e-mail keys of the person.
PERSONAL_DATA_ERASERS: tuple[str, ...] = (
    "badgehub.issuing.batches:erase_personal_data",
    "badgehub.claims.service:erase_personal_data",
    # The observatory keeps a SHA-256 of each learner's address: unlinked, so it cannot be matched any more.
    "badgehub.stats.service:forget_learners",
    # Pathway completions keep a SHA-256 of the holder's address: replaced by a tombstone.
    "badgehub.pathways.service:forget_holders",
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


def wipe_wallet(user: User, keys: Iterable[str] = ()) -> dict[str, int]:
    """Delete ``user``'s addresses, shares (with their items), imports, holder DID, e-mail tokens, and the
    staff invitations sent to ``keys`` (the person's e-mail keys, collected before the addresses go).
    Part of account erasure (:func:`erase_account`); returns counts. Flushes."""
    counts = {}
    for name, model in (("shares", WalletShare), ("imported", ImportedCredential), ("addresses", WalletEmail),
                        ("profile", WalletProfile), ("tokens", EmailToken)):
        if model is WalletShare:
            share_ids = select(WalletShare.id).where(WalletShare.user_id == user.id)
            db.session.execute(delete(WalletShareItem).where(WalletShareItem.share_id.in_(share_ids))
                               .execution_options(synchronize_session=False))
        if model is ImportedCredential:
            imported_ids = select(ImportedCredential.id).where(ImportedCredential.user_id == user.id)
            db.session.execute(delete(WalletShareItem).where(WalletShareItem.imported_id.in_(imported_ids))
                               .execution_options(synchronize_session=False))
        result = db.session.execute(delete(model).where(model.user_id == user.id)
                                    .execution_options(synchronize_session=False))
        counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    # Staff invitations still addressed to the person's own addresses (the address is all they hold).
    wanted = {key for key in keys if key}
    result = db.session.execute(delete(Invitation).where(func.lower(func.trim(Invitation.email)).in_(wanted))
                                .execution_options(synchronize_session=False))
    counts["invitations"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    db.session.flush()
    return counts


def blank_issued_recipients(keys: Iterable[str]) -> int:
    """Blank the e-mail address, name and holder DID stored *beside* the credentials issued to ``keys``, and
    replace their ``recipient_email_key`` with a tombstone no address can have (``erased:<random>``, no "@").

    The tombstone is one random value per erasure: it links to nobody, yet the observatory still counts this
    person's credentials as one learner's. The signed documents stay as issued: they hold only a salted hash
    of the address. Returns how many credentials were blanked.
    """
    wanted = {key for key in keys if key}
    if not wanted:
        return 0
    tombstone = f"{ERASED_RECIPIENT_PREFIX}{secrets.token_hex(12)}"
    count = 0
    for credential in db.session.scalars(select(IssuedCredential).where(
            IssuedCredential.recipient_email_key.in_(wanted))):
        credential.recipient_email = ""
        credential.recipient_name = ""
        credential.recipient_email_key = tombstone
        credential.holder_did = None
        # A key chosen by the organisation may spell the address (claims use claim:<id>:<address>; a CRM its
        # own): it is listed by the API, so it becomes a digest that still deduplicates a replay.
        key = credential.idempotency_key
        if key and any(address in key.lower() for address in wanted):
            credential.idempotency_key = erased_idempotency_key(key)
        count += 1
    db.session.flush()
    return count


def keys_for_erasure(user: User) -> set[str]:
    """The e-mail keys whose personal data goes with ``user``'s account: its own address and its verified
    extra addresses (an unproven address may be somebody else's)."""
    keys = {user.email_key}
    keys.update(verified_keys(user))
    return keys


def owned_alone(user: User) -> list[Any]:
    """The organisations of which ``user`` is the only owner (erasure must wait until they hand over)."""
    alone = []
    for member in db.session.scalars(select(OrganisationMember).where(
            OrganisationMember.user_id == user.id, OrganisationMember.role == Role.OWNER)
            .options(selectinload(OrganisationMember.organisation))):
        others = db.session.scalar(select(func.count()).select_from(OrganisationMember).where(
            OrganisationMember.organisation_id == member.organisation_id, OrganisationMember.role == Role.OWNER,
            OrganisationMember.user_id != user.id)) or 0
        if others == 0:
            alone.append(member.organisation)
    return alone


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure changed (counts only: nothing personal)."""

    credentials_blanked: int
    other_rows: int
    wallet: dict[str, int]


def erase_account(user: User, *, actor_id: int | None, config: Mapping[str, Any]) -> ErasureResult:
    """Erase ``user``'s account: personal data goes, the signed documents stay as issued.

    1. Refuse with LastOwner when they are the only owner of an organisation (they hand over first).
    2. The e-mail keys of the account and of its verified extra addresses are collected.
    3. Beside the credentials issued to those keys, the stored e-mail, name and holder DID are blanked and the
       key replaced by a tombstone that matches no address; the signed documents (salted hashes) stay.
    4. Every other domain's eraser (:data:`PERSONAL_DATA_ERASERS`) forgets what it keeps for those keys, and
       the outbox every e-mail to them, queued, sent or failed (its file copies too, hence ``config``).
    5. Addresses, shares, imported badges, holder DID, one-time links and staff invitations to those
       addresses go; then the user row itself is deleted
       (every foreign key to ``users`` is ``ON DELETE CASCADE`` — memberships, coordinator roles — or
       ``SET NULL`` — "created by" columns), which also ends every session: the session loader finds nobody.
    6. Endorsements made in the person's own name are withdrawn and blanked, and their issuer's name with them
       (:func:`badgehub.endorsements.service.erase_own_endorsements`).
    7. An audit event ``account.erased`` records the id and counts, never the address.

    Flushes; the caller commits. Raises LastOwner.
    """
    alone = owned_alone(user)
    if alone:
        names = ", ".join(organisation.name for organisation in alone)
        raise LastOwner(names, details={"organisations": [organisation.slug for organisation in alone]})
    erase_own_endorsements(user, config=config)  # withdrawn and blanked while the account still acts for them
    keys = keys_for_erasure(user)
    blanked = blank_issued_recipients(keys)
    others = run_erasers(keys) + outbox.erase_personal_data(keys, config=config)
    wallet = wipe_wallet(user, keys)
    user_id = user.id
    db.session.delete(user)
    db.session.flush()
    record("account.erased", actor_id=actor_id, subject_type="user", subject_id=user_id,
           details={"credentials_blanked": blanked, "other_rows": others, **wallet})
    db.session.flush()
    return ErasureResult(blanked, others, wallet)

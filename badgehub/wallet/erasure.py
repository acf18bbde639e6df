"""Erasing a learner's account: personal data goes, signed documents stay as issued.

Other domains keep personal data keyed by e-mail (CSV batch rows, claims...). Each exposes a function
``erase_personal_data(email_keys: set[str]) -> int`` (rows changed) and lists it here by dotted path, so that
this module never imports them eagerly (no import cycles, and a domain still being written is skipped).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

# "module:function" of every other domain's eraser; each takes the set of e-mail keys of the person.
PERSONAL_DATA_ERASERS: tuple[str, ...] = (
    "badgehub.issuing.batches:erase_personal_data",
    "badgehub.claims.service:erase_personal_data",
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


def erase_account(user: object, *, actor_id: int | None) -> None:
    """Erase ``user``'s account (plan; implemented with the wallet service):

    1. refuse if they are the last owner of an organisation (LastOwner);
    2. collect the e-mail keys of the account and of its verified addresses;
    3. blank recipient e-mail/name beside the credentials issued to those keys (tombstone key);
    4. run the other domains' erasers (PERSONAL_DATA_ERASERS);
    5. delete addresses, shares, imported credentials, tokens, memberships; delete the user row;
    6. record an audit event without the e-mail.
    """
    raise NotImplementedError

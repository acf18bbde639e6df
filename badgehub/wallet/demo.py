"""The demo learner's wallet: one share link of their badges and one badge imported from elsewhere.

The imported badge is ``fixtures/demo-imported-badge.json`` (see the README there: a public test credential
signed with a did:key, so it verifies without the network). Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Final

from flask import current_app
from sqlalchemy import select

from badgehub.accounts.service import get_user_by_email
from badgehub.extensions import db
from badgehub.wallet import imports as wallet_imports
from badgehub.wallet import service as wallet
from badgehub.wallet import shares as wallet_shares
from badgehub.wallet.errors import AlreadyImported
from badgehub.wallet.models import WalletShare

IMPORTED_BADGE: Final = Path(__file__).resolve().parent / "fixtures" / "demo-imported-badge.json"
SHARE_TITLE: Final = "Pour ma candidature"


def seed_demo_wallet(learner_email: str) -> WalletShare | None:
    """Import the demo badge into the learner's wallet and make a share link of everything they hold.

    Returns the share (None when the learner does not exist). Flushes; the caller commits.
    """
    learner = get_user_by_email(learner_email)
    if learner is None:
        return None
    with contextlib.suppress(AlreadyImported):  # a second run: it is already there
        wallet_imports.import_credential(current_app, learner, kind="file", data=IMPORTED_BADGE.read_bytes())
    existing = db.session.scalar(select(WalletShare).where(WalletShare.user_id == learner.id,
                                                           WalletShare.title == SHARE_TITLE))
    if existing is not None:
        return existing
    credentials = [credential.public_id for credential in wallet.wallet_credentials(learner)]
    imported = [row.id for row in wallet.imported_of(learner)]
    if not credentials and not imported:
        return None
    return wallet_shares.create_share(learner, title=SHARE_TITLE, credential_ids=credentials, imported_ids=imported)

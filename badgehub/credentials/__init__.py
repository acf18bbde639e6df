"""The credential engine: pure Open Badges 3.0 documents, proofs, status lists and baking.

Nothing in this package touches a database, Flask or the network.  Import the submodules directly
(``badgehub.credentials.data_integrity``, ``…vc_jwt``, ``…canonical`` …); this package only
re-exports the error base class every caller catches.
"""

from __future__ import annotations

from badgehub.credentials.errors import CredentialError

__all__ = ["CredentialError"]

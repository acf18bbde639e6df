"""A copy of an issued credential bound to the holder's own key, for a wallet that proved it holds that key.

The credential as issued names its recipient by a hashed e-mail; a phone wallet wants a credential whose
``credentialSubject.id`` is its own DID, so that it can present it with a proof of possession. The copy is
the stored document with that one member set, re-signed now with the organisation's active keys (Data
Integrity, then VC-JWT over the signed document, like every award). Everything else stays as issued: the
``id``, the achievement, the dates, the evidence, the hashed e-mail and the status list entry — revoking the
credential revokes every copy, and the credential page is still the one that speaks for it. The issuer is the
organisation's current profile, so that the issuer id and the signing key agree after a rotation (in the
did:key style the id *is* the key).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.did import is_did
from badgehub.credentials.documents import profile_object
from badgehub.credentials.errors import CredentialError
from badgehub.errors import ValidationError
from badgehub.issuing.errors import IssuingFailed
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.service import Signer, sign_token, signer_for


@dataclass(frozen=True)
class HolderCopy:
    """The holder-bound copy: the Data Integrity document, and the VC-JWT over it when it was asked for."""

    document: dict[str, Any]
    vc_jwt: str | None


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def holder_copy(credential: IssuedCredential, holder_did: str, *, now: dt.datetime, with_jwt: bool = True,
                config: Mapping[str, Any], signer: Signer | None = None) -> HolderCopy:
    """Re-sign ``credential`` for ``holder_did`` (see the module docstring); reads keys, writes nothing.
    ``with_jwt`` False skips the VC-JWT (a wallet that asked for the JSON form waits less).

    Raises :class:`~badgehub.errors.ValidationError` when ``holder_did`` is not a DID,
    :class:`~badgehub.issuing.errors.IssuingFailed` when the stored document cannot be signed again, and
    the key service's errors (no active key, KEK missing) from :func:`~badgehub.issuing.service.signer_for`.
    """
    if not is_did(holder_did):
        raise ValidationError(details={"holder_did": "not a DID"})
    active = signer or signer_for(credential.organisation, config)
    document = json.loads(credential.document_json)
    document.pop("proof", None)
    subject = {key: value for key, value in document["credentialSubject"].items() if key != "id"}
    document["credentialSubject"] = {"id": holder_did, **subject}
    document["issuer"] = profile_object(active.profile)
    try:
        signed = sign_data_integrity(document, active.ed25519, active.identity.verification_method_id, _stamp(now))
        token = sign_token(signed, active) if with_jwt else None
    except CredentialError as exc:
        raise IssuingFailed(details={"code": exc.code}) from exc
    return HolderCopy(signed, token)

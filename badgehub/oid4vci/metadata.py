"""The documents a wallet reads first: the credential issuer metadata and the authorization server metadata."""

from __future__ import annotations

from typing import Any, Final

from badgehub.credentials.contexts import OB_V3_CONTEXT, VC_V2_CONTEXT
from badgehub.oid4vci.proofs import PROOF_ALGORITHMS
from badgehub.oid4vci.service import JWT_VC_JSON, LDP_VC, PRE_AUTHORIZED_GRANT

CREDENTIAL_PATH: Final = "/oid4vci/credential"
NONCE_PATH: Final = "/oid4vci/nonce"
OFFERS_PATH: Final = "/oid4vci/offers"
TOKEN_PATH: Final = "/oid4vci/token"  # noqa: S105 (a URL path, not a secret)
# The pre-authorized flow has its own authorization server identifier, ``<base>/oid4vci``, so that its token
# endpoint does not clash with the OAuth server of the Open Badges API, whose issuer is ``<base>`` (RFC 8414
# allows one token endpoint per issuer). Its metadata is at the RFC 8414 address for an issuer with a path.
AUTHORIZATION_SERVER_PATH: Final = "/oid4vci"
AUTHORIZATION_SERVER_METADATA_PATH: Final = "/.well-known/oauth-authorization-server/oid4vci"
BINDING_METHODS: Final = ["did:key", "did:jwk"]
CREDENTIAL_TYPES: Final = ["VerifiableCredential", "OpenBadgeCredential"]


def _display(names: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "locale": locale} for locale, name in names.items()]


def credential_issuer_metadata(issuer_url: str, *, site_names: dict[str, str],
                               badge_names: dict[str, str]) -> dict[str, Any]:
    """OpenID4VCI 1.0 §12.2: where the endpoints are, and the two forms of an Open Badge we deliver.

    ``site_names`` and ``badge_names`` map a locale to the name shown by the wallet.
    """
    proof_types = {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}}
    return {
        "credential_issuer": issuer_url,
        "authorization_servers": [issuer_url + AUTHORIZATION_SERVER_PATH],
        "credential_endpoint": issuer_url + CREDENTIAL_PATH,
        "nonce_endpoint": issuer_url + NONCE_PATH,
        "display": _display(site_names),
        "credential_configurations_supported": {
            LDP_VC: {
                "format": "ldp_vc",
                "cryptographic_binding_methods_supported": BINDING_METHODS,
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                "proof_types_supported": proof_types,
                "credential_definition": {"@context": [VC_V2_CONTEXT, OB_V3_CONTEXT], "type": CREDENTIAL_TYPES},
                "credential_metadata": {"display": _display(badge_names)},
            },
            JWT_VC_JSON: {
                "format": "jwt_vc_json",
                "cryptographic_binding_methods_supported": BINDING_METHODS,
                "credential_signing_alg_values_supported": ["RS256", "EdDSA"],
                "proof_types_supported": proof_types,
                "credential_definition": {"type": CREDENTIAL_TYPES},
                "credential_metadata": {"display": _display(badge_names)},
            },
        },
    }


def authorization_server_metadata(issuer_url: str) -> dict[str, Any]:
    """RFC 8414 metadata of the authorization server of the pre-authorized code flow (``<issuer>/oid4vci``)."""
    return {
        "issuer": issuer_url + AUTHORIZATION_SERVER_PATH,
        "token_endpoint": issuer_url + TOKEN_PATH,
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }

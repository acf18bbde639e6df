"""Signing keys per organisation: Ed25519 for Data Integrity proofs, RSA-2048 for VC-JWT (RS256).

The private halves are kept encrypted at rest under the installation's key-encryption key (KEK);
see :mod:`badgehub.keys.crypto` for the format and :mod:`badgehub.keys.service` for the life cycle.
"""

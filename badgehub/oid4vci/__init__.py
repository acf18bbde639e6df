"""OpenID for Verifiable Credential Issuance 1.0: a learner puts a badge in a phone wallet.

The pre-authorized code flow only: the learner, signed in, asks for an offer of one of their badges; the
wallet scans it, trades the code (and the transaction code we e-mailed) for an access token, takes a nonce,
and receives the badge re-signed for the key it proved it holds.
"""

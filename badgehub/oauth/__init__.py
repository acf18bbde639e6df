"""The OAuth 2.0 authorization server of the Open Badges API, built on Authlib.

Dynamic client registration (RFC 7591), authorization code with PKCE S256 (RFC 7636, required), refresh tokens
(rotated), token revocation (RFC 7009), server metadata (RFC 8414). Secrets are kept as SHA-256 digests.
"""

"""Issuing credentials: awards signed and stored as issued, status lists, revocation."""

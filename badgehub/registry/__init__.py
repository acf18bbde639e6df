"""The territory's registry of trusted issuers in the Digital Credentials Consortium's known-issuer format."""

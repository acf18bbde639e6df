"""Typed errors of the credential engine.

Every failure the engine reports is a :class:`CredentialError` carrying a stable, machine-readable
``code`` (what the verification report and the API show) and a human message. Callers catch
``CredentialError`` and never need to know about pyld, cryptography or PyJWT exceptions: the engine
translates them at its boundary.
"""

from __future__ import annotations

from collections.abc import Iterable


class CredentialError(Exception):
    """Base class of every error raised by ``badgehub.credentials``.

    ``code`` is stable across releases (tests and clients match on it); ``message`` is for people.
    """

    code: str = "credential_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ContextNotAllowed(CredentialError):
    """A JSON-LD ``@context`` URL (or any other remote document) outside the bundled allow-list."""

    code = "context_not_allowed"

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD document {url!r} is not in the bundled allow-list; nothing is fetched")
        self.url = url


class UndefinedTermError(CredentialError):
    """JSON-LD safe mode: the document uses terms, types or IRIs that its contexts do not define.

    ``terms`` lists every offending entry, each as a short description such as ``"term 'foo'"``,
    ``"type 'Bar'"`` or ``"relative @id 'baz'"``.
    """

    code = "undefined_term"

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms: list[str] = sorted(set(terms))
        super().__init__("JSON-LD safe mode: not defined by the document's contexts: " + ", ".join(self.terms))


class JsonLdError(CredentialError):
    """The JSON-LD processor could not expand or convert the document (bad context, protected term
    redefinition, invalid value …)."""

    code = "jsonld_error"


class UnsupportedCryptosuite(CredentialError):
    """A proof type / cryptosuite combination the engine does not implement."""

    code = "unsupported_cryptosuite"


class MalformedProof(CredentialError):
    """A proof object that is structurally wrong (missing members, bad ``created``, bad encoding …)."""

    code = "malformed_proof"


class InvalidSignature(CredentialError):
    """The signature does not verify with the given key over the given document."""

    code = "invalid_signature"


class KeyFormatError(CredentialError):
    """A key, JWK, multikey or multibase string that cannot be parsed or is of the wrong kind."""

    code = "key_format"


class DidError(CredentialError):
    """A DID or DID URL that is malformed or of an unsupported method."""

    code = "did_invalid"


class JwtError(CredentialError):
    """A VC-JWT that is malformed or whose header/alg/key combination is not acceptable."""

    code = "jwt_malformed"

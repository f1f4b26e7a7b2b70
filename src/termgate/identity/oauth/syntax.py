"""The characters RFC 6749 (Appendix A) allows in request parameters, checked before Authlib.

Every parameter of the authorization, token, revocation and introspection endpoints is printable
ASCII (VSCHAR, %x20-7E, or narrower); names, scopes and URIs never hold a quote or backslash
(NQCHAR, URI-reference). Authlib echoes some values into `error_description`, which must not hold
`"` or `\\`, and raises a plain ValueError (a 500) when one does: so such a request is refused
here, in words that quote nothing the client sent.
"""

from __future__ import annotations

from collections.abc import Iterable

# Parameters that are names, scopes or URIs: no quote or backslash in any valid value.
NO_QUOTES = frozenset(
    {
        "response_type",
        "response_mode",
        "redirect_uri",
        "scope",
        "grant_type",
        "code_challenge_method",
        "token_type_hint",
        "client_id",
        "request_uri",
    }
)


def _printable_ascii(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


def malformed_parameter(parameters: Iterable[tuple[str, str]]) -> str | None:
    """Why the parameters cannot be an OAuth request (naming the parameter), or None."""
    for name, value in parameters:
        if not (_printable_ascii(name) and len(name) <= 64):
            return "a parameter name holds characters OAuth does not allow"
        if not _printable_ascii(value):
            return f"{name} holds characters OAuth does not allow (control or non-ASCII)"
        if name in NO_QUOTES and ('"' in value or "\\" in value):
            return f"{name} holds a quote or backslash, which OAuth does not allow there"
    return None

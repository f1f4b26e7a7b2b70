"""Authorization server metadata (RFC 8414), also served as /.well-known/openid-configuration."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from termgate.identity.oauth.runner import supported_scopes

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def server_metadata(issuer: str, api_scopes: Iterable[str]) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/connect/authorize",
        "token_endpoint": f"{issuer}/connect/token",
        "pushed_authorization_request_endpoint": f"{issuer}/connect/par",
        "revocation_endpoint": f"{issuer}/connect/revocation",
        "introspection_endpoint": f"{issuer}/connect/introspect",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "scopes_supported": supported_scopes(api_scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS[:2],
        "authorization_response_iss_parameter_supported": False,
        "require_pushed_authorization_requests": False,
    }

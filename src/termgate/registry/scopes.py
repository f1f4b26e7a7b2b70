"""The API's permissions, read from its OpenAPI document: each scope and what it allows."""

from __future__ import annotations

from typing import Any

from termgate.core.errors import RegistryError


def api_scopes(document: dict[str, Any]) -> dict[str, str]:
    """Every OAuth 2 scope the document declares, with its description, in declared order."""
    scopes: dict[str, str] = {}
    schemes = document.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        for flow in scheme.get("flows", {}).values():
            for name, text in flow.get("scopes", {}).items():
                scopes.setdefault(str(name), str(text))
    return scopes


def parse_scopes(requested: list[str], known: dict[str, str]) -> str:
    """The requested scopes as stored (space-separated, in the API's order); refuses any scope
    the API does not declare."""
    if not known:
        raise RegistryError("the API's description has not been read yet; try again shortly")
    unknown = sorted(set(requested) - set(known))
    if unknown:
        raise RegistryError(f"the API has no permission {', '.join(unknown)}")
    return " ".join(scope for scope in known if scope in requested)

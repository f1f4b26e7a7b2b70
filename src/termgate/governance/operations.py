"""The API's operations as the gateway knows them: operationId ↔ method and path template.

Usage events record an operation by its method and template (`observe`); lifecycles and
announcements name it by its OpenAPI operationId. The control plane reads the same OpenAPI
document the gateway reads (from the upstream, `TERMGATE_UPSTREAM_OPENAPI_URL`), and keeps it a
few minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from termgate.core.wire import METHODS
from termgate.governance.errors import PolicyConflictError, PolicyInputError
from termgate.settings import Settings
from termgate.upstream_client.fetch import fetch_json
from termgate.upstream_client.pool import UpstreamError, UpstreamPool

KEEP_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class ApiOperation:
    operation_id: str
    method: str
    template: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


Index = dict[str, ApiOperation]
_known: dict[str, tuple[float, Index]] = {}


def index_of(document: dict[str, Any]) -> Index:
    found: Index = {}
    for template, item in (document.get("paths") or {}).items():
        for method in METHODS:
            spec = item.get(method)
            if isinstance(spec, dict):
                name = str(spec.get("operationId") or f"{method} {template}")
                found[name] = ApiOperation(name, method.upper(), template)
    return found


def _source(settings: Settings) -> str:
    return f"{settings.upstream_url}|{settings.upstream_openapi_url or '/openapi.json'}"


def remember(settings: Settings, document: dict[str, Any], keep: float = 1e12) -> Index:
    """Use this document for `settings`' API (the server after it read it; tests)."""
    index = index_of(document)
    _known[_source(settings)] = (time.monotonic() + keep, index)
    return index


def forget(settings: Settings) -> None:
    _known.pop(_source(settings), None)


async def api_operations(settings: Settings) -> Index:
    source = _source(settings)
    cached = _known.get(source)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    upstream = urlsplit(str(settings.upstream_url))
    path = settings.upstream_openapi_url or "/openapi.json"
    pool = UpstreamPool(
        upstream.hostname or "127.0.0.1",
        upstream.port or 80,
        max_idle=1,
        connect_timeout=settings.upstream_connect_timeout,
        timeout=min(settings.upstream_timeout, 10.0),
    )
    try:
        document = await fetch_json(pool, upstream.netloc, path)
    except (UpstreamError, OSError, orjson.JSONDecodeError) as error:
        raise PolicyConflictError(f"cannot read the API's description at {path}: {error}") from None
    finally:
        await pool.close()
    return remember(settings, document, KEEP_SECONDS)


async def resolve(settings: Settings, names: list[str]) -> list[ApiOperation]:
    """The named operations; bad input if one is unknown or none is named."""
    wanted = [name for name in dict.fromkeys(names) if name]
    if not wanted:
        raise PolicyInputError("operations", "name at least one operationId")
    index = await api_operations(settings)
    unknown = [name for name in wanted if name not in index]
    if unknown:
        raise PolicyInputError(
            "operations", f"the API has no operation {', '.join(map(repr, unknown))}"
        )
    return [index[name] for name in wanted]


def split_names(text: str) -> list[str]:
    """Operation ids typed as a list separated by spaces or commas."""
    return [part for part in text.replace(",", " ").split() if part]

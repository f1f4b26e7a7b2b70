"""The bench's checks around the load: every target gives the same answer, the gateways refuse
another customer's ids, and during the measured rounds no gateway called the upstream on its own
(a tenant lookup per request would show here)."""

from __future__ import annotations

import json
import re
from typing import Any

from harness import console
from targets import get

TARGETS = ("direct", "nginx", "termgate", "termgate-redis")
GATEWAYS = ("termgate", "termgate-redis")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _content(body: bytes) -> object:
    """An answer with the host of its pagination links left out: the upstream writes them from
    the Host header, which differs between the direct target and the proxies."""
    try:
        document: Any = json.loads(body)
    except ValueError:
        return body
    if isinstance(document, dict) and isinstance(document.get("pagination"), dict):
        links = ("firstPage", "lastPage", "nextPage", "previousPage")
        pagination = {
            key: value.split("/api/", 1)[-1] if key in links and isinstance(value, str) else value
            for key, value in document["pagination"].items()
        }
        document = {**document, "pagination": pagination}
    return document


def check_same_answer(ports: dict[str, int], path: str, headers: dict[str, str]) -> dict[str, int]:
    """Every target answers 200 with the same content; returns each one's body size."""
    sizes: dict[str, int] = {}
    contents: dict[str, object] = {}
    for name in TARGETS:
        status, body = get(ports[name], path, headers)
        if status != 200:
            raise RuntimeError(f"{name} answered {status}: {body[:300]!r}")
        sizes[name], contents[name] = len(body), _content(body)
    if any(content != contents["direct"] for content in contents.values()):
        raise RuntimeError(f"the targets answer different bodies: {sizes}")
    return sizes


def check_tenant_refused(ports: dict[str, int], path: str, headers: dict[str, str]) -> None:
    """The tenant check is on: the same request naming another customer's ids is answered by
    the upstream (which checks no tenant) and refused by each gateway (clause 3.3 a)."""
    status, body = get(ports["direct"], path, headers)
    if status != 200:
        raise RuntimeError(f"the upstream answered {status} to {path}: {body[:300]!r}")
    for name in GATEWAYS:
        status, body = get(ports[name], path, headers)
        if status != 403:
            raise RuntimeError(f"{name} answered {status}, not 403, to another customer's ids")


def _templated(counts: dict[str, int]) -> dict[str, int]:
    """Request counts by path with every GUID written as {id}."""
    found: dict[str, int] = {}
    for path, count in counts.items():
        key = GUID.sub("{id}", path)
        found[key] = found.get(key, 0) + count
    return found


def upstream_calls(
    before: dict[str, Any], after: dict[str, Any], completed: int, runs: int, connections: int
) -> dict[str, object]:
    """What the upstream was asked during the measured rounds: the bench's request (wrk's
    completed requests on all targets, plus at most `connections` in flight at each wrk stop,
    the warm-up's last included) and anything else, which only a gateway asks on its own (a
    tenant listing, for one)."""
    others = {
        path: count - before["others"].get(path, 0)
        for path, count in after["others"].items()
        if count > before["others"].get(path, 0)
    }
    lookups = sum(count for path, count in others.items() if path.startswith("/api/"))
    watched = after["watched"] - before["watched"]
    in_flight = (runs + 1) * connections
    consistent = completed <= watched <= completed + in_flight
    colour = "green" if lookups == 0 and consistent else "red"
    console.print(
        f"[{colour}]upstream during the rounds: {watched:,} requests for the bench's path "
        f"(wrk completed {completed:,} on all targets, up to {in_flight:,} more in flight at "
        f"the stops); {lookups} other API requests (tenant lookups per request: "
        f"{'none' if lookups == 0 else 'SOME'}){'' if consistent else '; COUNTS DO NOT MATCH'}[/]"
    )
    if others:
        console.print(f"  other upstream requests during the rounds: {_templated(others)}")
    console.print(f"  before the rounds (start, checks, warm-up): {_templated(before['others'])}")
    return {
        "bench_path_requests": watched,
        "wrk_completed_all_targets": completed,
        "in_flight_bound": in_flight,
        "other_api_requests": lookups,
        "others_during_rounds": _templated(others),
        "others_before_rounds": _templated(before["others"]),
    }

"""The tenant check of one request (clause 3.3 a): every tenant id its path names must belong
to a root the consent covers.

`check_path` decides from memory (a dict lookup per id) and hands back the ids it could not
place; `settle` places those with the resolver (one shared walk each, then remembered). An id not
in its configured form is refused, never forwarded: the upstream might read `{…}` or an upper-case
GUID as an id the gateway never checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from termgate.gateway.tenancy.config import TenantKind, TenantPlan
from termgate.gateway.tenancy.resolver import TenantResolver


@dataclass(frozen=True, slots=True)
class TenantRefusal:
    """Why the request is refused (403 40303); `parameter` is empty for a refused operation."""

    parameter: str
    value: str
    reason: str


COVERED = "not covered by the consent"

# Ids `check_path` could not place from memory: (parameter, kind, canonical id).
Unplaced = tuple[tuple[str, TenantKind, str], ...]


def check_path(
    plan: TenantPlan, ids: Sequence[str], roots: frozenset[str], resolver: TenantResolver
) -> TenantRefusal | Unplaced | None:
    """None: every tenant id is covered; a refusal; or the ids memory cannot place yet. `ids`
    are the path's values of `plan.tenants`, in that order (`TenantPlan.ids_of`)."""
    if plan.refusal is not None:
        return TenantRefusal("", "", plan.refusal)
    tenants = plan.tenants
    if len(ids) != len(tenants):
        raise ValueError(f"{len(ids)} tenant ids for the {len(tenants)} of the plan")
    unplaced: list[tuple[str, TenantKind, str]] | None = None
    owners = resolver.owners
    # By index, not zip(strict=True): on the request path, the pairing cost a third of the check.
    for index, (parameter, kind) in enumerate(tenants):
        raw = ids[index]
        # Memory holds canonical ids only, so a hit on the id as written proves it canonical:
        # the common case is one lookup, without parsing the id.
        parent = kind.parent
        root = raw if parent is None else owners[kind.name].get(raw)
        if root is None or (parent is None and root not in roots):
            canonical = kind.canonical(raw)
            if canonical is None:
                return TenantRefusal(
                    parameter, raw, f"not {kind.article} id in the form this API uses"
                )
            root = resolver.root_of(kind, canonical)
            if root is None:
                unplaced = [*(unplaced or ()), (parameter, kind, canonical)]
                continue
        if root not in roots:
            return TenantRefusal(parameter, raw, COVERED)
    return tuple(unplaced) if unplaced else None


async def settle(
    unplaced: Unplaced, roots: frozenset[str], resolver: TenantResolver
) -> TenantRefusal | None:
    """The ids `check_path` left, placed with the upstream's listings. An id proven to exist
    nowhere passes: the upstream answers its own 404 for it."""
    for parameter, kind, canonical in unplaced:
        where = await resolver.locate(kind, canonical, roots)
        if where.absent:
            continue
        if where.root is None or where.root not in roots:
            return TenantRefusal(parameter, canonical, COVERED)
    return None

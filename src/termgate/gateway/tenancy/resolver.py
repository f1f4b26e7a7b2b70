"""Who owns a tenant id: learnt from the API's own listings, remembered in bounded memory.

The gateway asks the upstream nothing per request once an id is known: `root_of` is one lookup
in an LRU of id → root (the debtor a consent names). For an id it has not seen, `locate` walks
the listings under the consent's own roots (for an employee: the consent's debtors' companies,
then those companies' employees), page by page, and remembers every id they list. Each listing
walked is kept as a roster with the time of the walk; a roster younger than `refresh_seconds` is
trusted, so a second unknown id under the same consent costs no upstream request at all, and
probing random ids costs at most one walk per roster per refresh period. Concurrent requests
that need the same roster share one walk. Only ids the upstream listed are remembered.

An id found under none of the consent's roots belongs to another customer or to no one. If the
kind has a listing of all its ids (`global_listing`), one walk of it tells the two apart (if
that walk fails, absence is unproven and the id is refused); without one the answer stays "not
under these roots", which the tenant check refuses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from termgate.gateway.tenancy.config import TenancyConfig, TenantKind, consent_roots
from termgate.gateway.tenancy.ids import Canonical
from termgate.gateway.tenancy.lru import BoundedLRU
from termgate.upstream_client.pool import UpstreamError

log = logging.getLogger(__name__)

# GET of a path and query on the upstream: (status, whole body); UpstreamError if it fails.
Fetch = Callable[[str], Awaitable[tuple[int, bytes]]]
EVERYONE = "*"  # the roster key of a kind's global listing


@dataclass(frozen=True, slots=True)
class Roster:
    """The ids one listing named, each with its parent's id, and when it was walked."""

    members: dict[str, str]
    walked_at: float


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Where `locate` found an id: the root that owns it, or None; `absent` when the kind's
    global listing proved that no one owns it (then the upstream answers its own 404)."""

    root: str | None
    absent: bool = False


def _roster_weight(roster: Roster) -> int:
    return len(roster.members) + 1


class TenantResolver:
    def __init__(
        self,
        config: TenancyConfig,
        fetch: Fetch,
        *,
        capacity: int = 100_000,
        refresh_seconds: float = 30.0,
        parallel: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.fetch = fetch
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        # Per kind below the root, id → the root that owns it (ids of two kinds may be equal).
        self.owners: dict[str, BoundedLRU[str, str]] = {
            name: BoundedLRU(capacity) for name, kind in config.kinds.items() if kind.parent
        }
        self.rosters: BoundedLRU[tuple[str, str], Roster] = BoundedLRU(capacity, _roster_weight)
        self._walks: dict[tuple[str, str], asyncio.Task[Roster]] = {}
        self._roots: BoundedLRU[frozenset[str], frozenset[str]] = BoundedLRU(capacity)
        self.upstream_requests = 0  # listing pages asked so far, for logs and benchmarks
        # Listing pages asked at once: a consent over many companies must not open a
        # connection per company on its first unknown employee.
        self._requests = asyncio.Semaphore(parallel)

    def consent_roots(self, debtors: frozenset[str]) -> frozenset[str]:
        """A token's debtors in the root's form, worked out once per set: an older token's
        integer debtors name no root of an API with GUID roots, and must neither pass the
        tenant check as written nor be walked."""
        roots = self._roots.get(debtors)
        if roots is None:
            roots = consent_roots(self.config, debtors)
            self._roots.put(debtors, roots)
        return roots

    def root_of(self, kind: TenantKind, canonical: str) -> str | None:
        """The root owning a canonical id, from memory alone (a root id owns itself)."""
        if kind.parent is None:
            return canonical
        return self.owners[kind.name].get(canonical)

    def forget(self, kind: TenantKind, parent: str) -> None:
        """The listing of `kind` under `parent` changed: the next miss walks it again."""
        self.rosters.discard((kind.name, parent))

    def written(self, tenants: Iterable[tuple[TenantKind, str]]) -> None:
        """A write under these canonical tenant ids succeeded (it may have created a child, such
        as an employee of the company in its path): their children's listings are walked again
        on the next miss, so the new id is found at once instead of after the refresh period."""
        for parent, parent_id in tenants:
            for kind in self.config.kinds.values():
                if kind.parent == parent.name:
                    self.forget(kind, parent_id)

    async def locate(self, kind: TenantKind, canonical: str, roots: frozenset[str]) -> Whereabouts:
        """Where a canonical id of `kind` belongs, walking listings under `roots` if needed."""
        if kind.parent is None:
            return Whereabouts(canonical)
        known = self.owners[kind.name].get(canonical)
        if known is not None:
            return Whereabouts(known)
        parents = await self._parents(kind, roots)
        rosters = await asyncio.gather(
            *(self._roster(kind, parent, root) for parent, root in parents)
        )
        for (_, root), roster in zip(parents, rosters, strict=True):
            if canonical in roster.members:
                self.owners[kind.name].put(canonical, root)
                return Whereabouts(root)
        if kind.global_listing is None:
            return Whereabouts(None)
        try:
            everyone = await self._roster(kind, EVERYONE, None)
        except UpstreamError as error:  # absence unproven: refused like another customer's
            log.warning("cannot walk %s: %s", kind.global_listing, error)
            return Whereabouts(None)
        owner = everyone.members.get(canonical)
        if owner is None:
            return Whereabouts(None, absent=True)
        self.owners[kind.name].put(canonical, owner)
        return Whereabouts(owner)

    async def _parents(self, kind: TenantKind, roots: frozenset[str]) -> list[tuple[str, str]]:
        """The ids of `kind`'s parent kind under `roots`, each with its root."""
        assert kind.parent is not None
        parent = self.config.kinds[kind.parent]
        if parent.parent is None:
            return [(root, root) for root in sorted(roots)]
        grandparents = await self._parents(parent, roots)
        rosters = await asyncio.gather(
            *(self._roster(parent, grand, root) for grand, root in grandparents)
        )
        return [
            (member, root)
            for (_, root), roster in zip(grandparents, rosters, strict=True)
            for member in roster.members
        ]

    async def _roster(self, kind: TenantKind, parent: str, root: str | None) -> Roster:
        """The listing of `kind` under `parent` (EVERYONE: the global listing), walked again
        only when older than the refresh period; one walk at a time per listing."""
        key = (kind.name, parent)
        cached = self.rosters.get(key)
        if cached is not None and self.clock() - cached.walked_at < self.refresh_seconds:
            return cached
        walk = self._walks.get(key)
        if walk is None:
            walk = asyncio.get_running_loop().create_task(self._learn(kind, parent, root))
            self._walks[key] = walk
            walk.add_done_callback(lambda done: self._walked(key, done))
        return await asyncio.shield(walk)

    def _walked(self, key: tuple[str, str], walk: asyncio.Task[Roster]) -> None:
        self._walks.pop(key, None)
        if not walk.cancelled():
            walk.exception()  # retrieved, even when every waiter went away

    async def _learn(self, kind: TenantKind, parent: str, root: str | None) -> Roster:
        roster = await self._walk(kind, parent)
        self.rosters.put((kind.name, parent), roster)
        if root is not None:
            owners = self.owners[kind.name]
            for member in roster.members:
                owners.put(member, root)
        return roster

    def _listing_path(self, kind: TenantKind, parent: str) -> str:
        if parent == EVERYONE:
            assert kind.global_listing is not None
            return kind.global_listing
        assert kind.listing is not None
        assert kind.parent is not None
        parameter = self.config.kinds[kind.parent].parameter
        return kind.listing.replace(f"{{{parameter}}}", quote(parent, safe=""))

    async def _walk(self, kind: TenantKind, parent: str) -> Roster:
        path = self._listing_path(kind, parent)
        separator = "&" if "?" in path else "?"
        members: dict[str, str] = {}
        number, pages = 1, 1
        while number <= pages:
            if number > self.config.max_pages:
                raise UpstreamError(f"GET {path} has more than {self.config.max_pages} pages")
            target = f"{path}{separator}pageNumber={number}&pageSize={self.config.page_size}"
            async with self._requests:
                status, body = await self.fetch(target)
            self.upstream_requests += 1
            if status == 404 and parent != EVERYONE:
                break  # the parent itself is gone: it lists nothing
            page = _page(target, status, body)
            self._collect(kind, parent, page.get("data"), members)
            pagination = page.get("pagination")
            total = pagination.get("totalPages") if isinstance(pagination, dict) else None
            pages = total if isinstance(total, int) and not isinstance(total, bool) else 1
            number += 1
        return Roster(members, self.clock())

    def _collect(self, kind: TenantKind, parent: str, items: Any, into: dict[str, str]) -> None:
        if not isinstance(items, list):
            return
        id_field, parent_field = kind.id_field, kind.parent_field
        assert id_field is not None
        assert kind.parent is not None
        parent_form = self.config.kinds[kind.parent].canonical
        for item in items:
            if not isinstance(item, dict):
                continue
            member = _canonical(kind.canonical, item.get(id_field))
            if member is None:
                continue
            if parent == EVERYONE:
                assert parent_field is not None
                owner = _canonical(parent_form, item.get(parent_field))
                if owner is not None:
                    into[member] = owner
            else:
                into[member] = parent


def _canonical(form: Canonical, value: Any) -> str | None:
    """A listed id in canonical form; JSON integers count for integer ids."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return form(value) if isinstance(value, str) else None


def _page(target: str, status: int, body: bytes) -> dict[str, Any]:
    if status != 200:
        raise UpstreamError(f"GET {target} answered {status}")
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"GET {target} answered with no JSON") from None
    if not isinstance(page, dict):
        raise UpstreamError(f"GET {target} answered with no JSON object")
    return page

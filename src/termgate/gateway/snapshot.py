"""The gateway's in-memory picture of who may call: loaded at start, never queried per request.

Every registry change that affects access appends to `access_changes`; a refresher polls the head
of that feed (one tiny indexed query per interval, on every node, whatever the traffic) and swaps
in a freshly loaded snapshot when it moves, so a created, suspended or revoked key takes effect on
every node within the interval, without a restart.

A refresh reads the feed rows since its version: when they are contiguous and name only keys,
subscriptions, applications, developers, plans or products, it loads just the keys under those
(revoked ones included, to drop them) and patches a copy of the key map; a gap in the feed, any
other entity, or too many changes at once reload everything (see `snapshot_patch`).

The snapshot also holds what the gateway verifies end users' access tokens with (clause 3.3 a):
the signing keys' public halves and the token families revoked recently enough for their tokens
to be still unexpired (a withdrawn consent revokes its families; a new consent that leaves out a
debtor or a scope revokes the earlier families that carry it). A token carries its own family's
scopes and debtors, and every family not revoked lies within its end user's live consent, so
checking the token's claims and this set checks the live consent. A new signing key and every
revocation append to the same feed, so both reach every node within the interval too.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.faults import FaultLog
from termgate.db.models import AccessChange, Status, SubscriptionKey, utcnow
from termgate.db.oauth import TokenFamily
from termgate.gateway.bearer import BearerTokens
from termgate.gateway.grants import TermsDue, builder_for, current_terms, key_rows
from termgate.gateway.key_grant import KeyGrant
from termgate.gateway.snapshot_patch import patch_keys, pending_changes
from termgate.governance.availability import NO_POLICY, AvailabilityPolicy, load_policy
from termgate.identity.tokens import ACCESS_TOKEN_LIFETIME, public_keys

__all__ = ["AccessSnapshot", "KeyGrant", "SnapshotHolder", "head_version", "load_snapshot"]

log = logging.getLogger(__name__)

# A family revoked longer ago than a token lives (plus this, for clocks apart) has no live tokens.
REVOCATION_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class AccessSnapshot:
    version: int = 0
    keys: dict[str, KeyGrant] = field(default_factory=dict)
    # Verifies access tokens; None while no signing key exists (every token is refused).
    tokens: BearerTokens | None = None
    # Ids of the token families whose tokens may be unexpired but are revoked.
    revoked: frozenset[str] = frozenset()
    # Added to the wall clock where tokens expire (tests and demos move the clock).
    clock_offset: float = 0.0
    # The next maintenance window and the operations' lifecycles (clauses 8 and 4.6).
    policy: AvailabilityPolicy = NO_POLICY
    # The current terms' re-acceptance deadline (clause 9), for grants patched in later.
    terms: TermsDue | None = None


async def _tokens(
    session: AsyncSession, issuer: str, previous: BearerTokens | None
) -> BearerTokens | None:
    """The verifier for the current public keys; the previous one (with every token it verified)
    while the keys are the same."""
    jwks = await public_keys(session)
    if not jwks["keys"]:
        return None
    if previous is not None and previous.same_keys(jwks, issuer):
        return previous
    return BearerTokens(jwks, issuer)


async def _revoked_families(session: AsyncSession, clock_offset: float) -> frozenset[str]:
    since = utcnow() + timedelta(seconds=clock_offset) - ACCESS_TOKEN_LIFETIME - REVOCATION_MARGIN
    rows = await session.scalars(select(TokenFamily.id).where(TokenFamily.revoked_at >= since))
    return frozenset(rows)


async def load_snapshot(
    session: AsyncSession,
    clock_offset: float = 0.0,
    issuer: str = "",
    previous: AccessSnapshot | None = None,
) -> AccessSnapshot:
    version = (
        await session.execute(select(func.coalesce(func.max(AccessChange.id), 0)))
    ).scalar_one()
    terms = await current_terms(session, clock_offset)
    rows = (await session.execute(key_rows(SubscriptionKey.status != Status.REVOKED))).all()
    builder = await builder_for(session, rows, terms, every_plan=True)
    keys = {row[0]: builder.grant(row) for row in rows}
    del rows
    return AccessSnapshot(
        version=int(version),
        keys=keys,
        terms=terms,
        tokens=await _tokens(session, issuer, previous.tokens if previous else None),
        revoked=await _revoked_families(session, clock_offset),
        clock_offset=clock_offset,
        policy=await load_policy(session, clock_offset),
    )


async def head_version(session: AsyncSession) -> int:
    result = await session.execute(select(func.coalesce(func.max(AccessChange.id), 0)))
    return int(result.scalar_one())


class SnapshotHolder:
    """Holds the current snapshot; `refresh_forever` keeps it in step with the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval: float,
        clock_offset: float = 0.0,
        issuer: str = "",
        *,
        freeze_heap: bool = False,
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.clock_offset = clock_offset
        self.issuer = issuer
        self.current = AccessSnapshot()
        self.faults = FaultLog(log, "access snapshot refresh")
        # How many refreshes reloaded everything and how many patched (tests and benches read).
        self.full_loads = 0
        self.patches = 0
        # When the snapshot was last known to match the database (wall clock; 0: never loaded).
        self.checked_at = 0.0
        # The serving process's choice (see `_loaded`); tests share their process and leave it.
        self.freeze_heap = freeze_heap

    async def _load(self, session: AsyncSession) -> AccessSnapshot:
        return await load_snapshot(session, self.clock_offset, self.issuer, self.current)

    def _loaded(self, snapshot: AccessSnapshot) -> None:
        """Swap in a fully loaded snapshot. With `freeze_heap`, every object alive now (the
        snapshot's grants above all) moves to the collector's permanent generation: the full
        collections that traffic's allocations trigger then skip them (a full collection over
        200,000 keys costs ~0.2 s). Reference counting still frees them when a later snapshot
        replaces this one."""
        self.current = snapshot
        if self.freeze_heap:
            gc.freeze()

    async def reload(self) -> None:
        async with self.sessions() as session:
            self._loaded(await self._load(session))
        self.checked_at = time.time()

    async def refresh_once(self) -> bool:
        """Brings the snapshot to the feed's head: patched with the rows the new changes name,
        or reloaded whole when the feed has a gap, names something else, or the policy is due."""
        current = self.current
        async with self.sessions() as session:
            head = await head_version(session)
            due = time.time() >= current.policy.reload_at
            if head == current.version and not due:
                self.checked_at = time.time()
                return False
            named = None if due else await pending_changes(session, current.version, head)
            if named is None:
                self._loaded(await self._load(session))
                self.full_loads += 1
                self.checked_at = time.time()
                log.info("access snapshot reloaded at change %d", self.current.version)
                return True
            keys = await patch_keys(session, current.keys, current.terms, named)
        # One assignment: a request sees the old snapshot or the new one, never a mix.
        self.current = replace(current, version=head, keys=keys)
        self.patches += 1
        self.checked_at = time.time()
        log.info("access snapshot patched to change %d", head)
        return True

    async def refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh_once()
            except Exception as error:  # the database may blink; the last snapshot stays in force
                self.faults.failed(error, f"keeping version {self.current.version}")
            else:
                self.faults.succeeded()

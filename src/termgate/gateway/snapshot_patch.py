"""Patching the snapshot's key map with the keys that changes in the feed name.

A feed row names an entity and its id. The keys under it are found through the registry's
joins as they stand now; a key's subscription, a subscription's application and plan, an
application's developer and a plan's product never change after creation, so the keys under an
entity now are the keys that were under it. Revoked keys are loaded too, to be dropped; a key's
change reloads every key of its subscription (issuing a key revokes the one in its slot).

The patch is made on a copy of the map and swapped in whole (copy-on-write), so a request never
sees half a change: an application's ten keys are suspended together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from termgate.db.models import (
    AccessChange,
    Application,
    Developer,
    Plan,
    Status,
    Subscription,
    SubscriptionKey,
)
from termgate.gateway.grants import TermsDue, builder_for, chunked, key_rows
from termgate.gateway.key_grant import KeyGrant


def _sibling_keys(ids: list[str]) -> ColumnElement[bool]:
    """Every key of the named keys' subscriptions: a key issued into a slot revokes the key that
    was there, and the feed names only the new one."""
    subscriptions = select(SubscriptionKey.subscription_id).where(SubscriptionKey.id.in_(ids))
    return SubscriptionKey.subscription_id.in_(subscriptions)


def _under(column: InstrumentedAttribute[str]) -> Callable[[list[str]], ColumnElement[bool]]:
    return lambda ids: column.in_(ids)


# The entities a patch handles, and which keys are under each.
INCREMENTAL: dict[str, Callable[[list[str]], ColumnElement[bool]]] = {
    "subscription_key": _sibling_keys,
    "key": _sibling_keys,  # a key suspended or reinstated (`registry.status`)
    "subscription": _under(Subscription.id),
    "application": _under(Application.id),
    "developer": _under(Developer.id),
    "plan": _under(Plan.id),
    "product": _under(Plan.product_id),
}
# Beyond this many changes since the last refresh a full reload is the simpler way.
MAX_CHANGES = 1000


async def pending_changes(
    session: AsyncSession, version: int, head: int
) -> dict[str, set[str]] | None:
    """The ids per entity changed after `version` up to `head`; None when only a full reload
    is right: the head went back, too many changes, a gap in the feed (rows pruned, or a
    transaction not yet visible), or an entity a patch does not handle."""
    if head <= version or head - version > MAX_CHANGES:
        return None
    rows = await session.execute(
        select(AccessChange.entity, AccessChange.entity_id).where(
            AccessChange.id > version, AccessChange.id <= head
        )
    )
    found = rows.all()
    if len(found) != head - version:
        return None
    named: dict[str, set[str]] = {}
    for entity, entity_id in found:
        if entity not in INCREMENTAL:
            return None
        named.setdefault(entity, set()).add(entity_id)
    return named


async def patch_keys(
    session: AsyncSession,
    keys: Mapping[str, KeyGrant],
    terms: TermsDue | None,
    named: Mapping[str, set[str]],
) -> dict[str, KeyGrant]:
    """A new key map: `keys` with every key under the named entities reloaded or dropped."""
    rows: list[Any] = []
    for entity, ids in named.items():
        under = INCREMENTAL[entity]
        for batch in chunked(ids):
            rows.extend((await session.execute(key_rows(under(batch)))).all())
    builder = await builder_for(session, rows, terms, every_plan=False)
    patched = dict(keys)
    for row in rows:
        if row[2] is Status.REVOKED:
            patched.pop(row[0], None)
        else:
            patched[row[0]] = builder.grant(row)
    return patched

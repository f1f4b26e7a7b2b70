"""Clause 3.1's access snapshot and the garbage collector: the serving process moves a fully
loaded snapshot out of the collector's way (`gc.freeze`), so traffic's full collections do not
walk every key on each pass; a holder without `freeze_heap` (every test's) leaves the heap alone."""

from __future__ import annotations

import gc

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.gateway.snapshot import SnapshotHolder
from tests.gateway.test_snapshot_incremental import make_world


async def test_clause_3_1_full_snapshot_load_is_frozen_out_of_the_collectors_way(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await make_world(sessions)
    holder = SnapshotHolder(sessions, 60.0, freeze_heap=True)
    gc.unfreeze()
    try:
        await holder.reload()
        keys = holder.current.keys
        assert len(keys) >= 6
        assert gc.is_tracked(keys)
        assert gc.get_freeze_count() > 0
        assert all(found is not keys for found in gc.get_objects())  # not scanned any more
        # A full reload (the feed's head is unchanged, so the policy must be due) freezes again.
        holder.current = holder.current.__class__(version=-1)
        await holder.refresh_once()
        assert holder.full_loads == 1
        assert all(found is not holder.current.keys for found in gc.get_objects())
    finally:
        gc.unfreeze()


async def test_clause_3_1_snapshot_holder_leaves_the_heap_alone_by_default(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await make_world(sessions)
    holder = SnapshotHolder(sessions, 60.0)
    gc.unfreeze()
    await holder.reload()
    assert gc.get_freeze_count() == 0
    keys = holder.current.keys
    assert any(found is keys for found in gc.get_objects())

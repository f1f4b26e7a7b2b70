"""Every change the gateway's access snapshot depends on appends one row to the change feed.

The row is written in the same transaction as the change, so a node never sees one without the
other; `termgate.gateway.snapshot` reloads when the feed's head moves.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import AccessChange


def record_access_change(session: AsyncSession, entity: str, entity_id: str) -> None:
    session.add(AccessChange(entity=entity, entity_id=entity_id))

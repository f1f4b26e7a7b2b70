"""Names of an end user's customer accounts (debtors), asked of the payroll API itself.

The consent screen must say which accounts are meant in words the end user knows; termgate
keeps no copy of the upstream's data, so it asks, briefly, and falls back to the id. Ids are
canonical strings (a decimal number or a lower-case GUID), so they go into the path as written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx

from termgate.core.tenant_ids import debtor_order
from termgate.core.wire import DEBTORS_HEADER, USER_HEADER
from termgate.db.oauth import EndUser
from termgate.settings import Settings

TIMEOUT = httpx.Timeout(1.5, connect=0.5)


def fallback_name(debtor_id: str) -> str:
    return f"Customer account {debtor_id}"


async def debtor_names(
    settings: Settings, end_user: EndUser, debtor_ids: Iterable[str]
) -> dict[str, str]:
    """Names by debtor id, in the order of `debtor_order` (numbers, then GUIDs)."""
    ids = sorted(set(debtor_ids), key=debtor_order)
    headers = {
        DEBTORS_HEADER: ",".join(end_user.debtors),
        USER_HEADER: str(end_user.upstream_id),
    }
    async with httpx.AsyncClient(
        base_url=str(settings.upstream_url), timeout=TIMEOUT, headers=headers
    ) as client:
        names = await asyncio.gather(*(_name(client, debtor_id) for debtor_id in ids))
    return dict(zip(ids, names, strict=True))


async def _name(client: httpx.AsyncClient, debtor_id: str) -> str:
    try:
        response = await client.get(f"api/debtors/{debtor_id}")
        name = response.json().get("name") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else fallback_name(debtor_id)

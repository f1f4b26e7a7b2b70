"""Which debtor owns a company: what the authorize step needs for a `companyId` in a path.

Consents name debtors (a debtor owns companies: docs/architecture.md), paths name companies. The
gateway
keeps a company → debtor map: preloaded from the upstream's `GET /api/companies` pages when the
catalog loads, and completed on demand with one `GET /api/companies/{id}` for a company it has
not seen (concurrent requests for the same id share that one lookup). Only companies that exist
are remembered, under their canonical id, so probing random ids cannot grow the map.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from termgate.core.tenant_ids import TenantIdError, canonical_debtor_id
from termgate.upstream_client.fetch import fetch, fetch_json
from termgate.upstream_client.pool import UpstreamError, UpstreamPool

log = logging.getLogger(__name__)

COMPANIES_PATH = "/api/companies"
PAGE_SIZE = 100  # the contract's largest page


def canonical_id(raw: str) -> bool:
    """Digits without a leading zero, as the upstream writes ids (and no wider than 64 bits)."""
    return raw.isdigit() and raw.isascii() and len(raw) < 19 and (raw[0] != "0" or raw == "0")


class CompanyDirectory:
    def __init__(self, pool: UpstreamPool, upstream_host: str) -> None:
        self.pool = pool
        self.upstream_host = upstream_host
        # company id as in paths → its debtor's canonical id (a string, as consents hold it)
        self.owner: dict[str, str] = {}
        self._lookups: dict[str, asyncio.Future[str | None]] = {}

    def _remember(self, company: Any) -> None:
        if isinstance(company, dict):
            company_id, owner = company.get("id"), company.get("debtorId")
            if isinstance(company_id, int) and isinstance(owner, int | str):
                try:
                    self.owner[str(company_id)] = canonical_debtor_id(owner)
                except TenantIdError:
                    log.warning("company %s names no debtor id: %.40r", company_id, owner)

    async def preload(self) -> int:
        """Learn every company the upstream lists; returns how many are known."""
        number, pages = 1, 1
        while number <= pages:
            page = await fetch_json(
                self.pool,
                self.upstream_host,
                f"{COMPANIES_PATH}?pageNumber={number}&pageSize={PAGE_SIZE}",
            )
            for company in page.get("data") or ():
                self._remember(company)
            pagination = page.get("pagination") or {}
            pages = int(pagination.get("totalPages") or 0)
            number += 1
        return len(self.owner)

    async def learn(self, company_id: str) -> str | None:
        """The debtor owning `company_id`, asking the upstream once; None if there is none."""
        known = self.owner.get(company_id)
        if known is not None or not canonical_id(company_id):
            return known
        pending = self._lookups.get(company_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._lookups[company_id] = future
        try:
            owner = await self._ask(company_id)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._lookups[company_id]
        future.set_result(owner)
        return owner

    async def _ask(self, company_id: str) -> str | None:
        status, body = await fetch(self.pool, self.upstream_host, f"{COMPANIES_PATH}/{company_id}")
        if status == 404:
            return None
        if status != 200:
            raise UpstreamError(f"GET {COMPANIES_PATH}/{company_id} answered {status}")
        try:
            self._remember(orjson.loads(body))
        except orjson.JSONDecodeError:
            raise UpstreamError(f"GET {COMPANIES_PATH}/{company_id}: no JSON") from None
        return self.owner.get(company_id)

"""The resolver the gateway runs: the tenancy file and memory bounds of the settings, listings
read over the gateway's own upstream connection pool."""

from __future__ import annotations

from termgate.gateway.tenancy.config import load_tenancy
from termgate.gateway.tenancy.resolver import Fetch, TenantResolver
from termgate.settings import Settings
from termgate.upstream_client.fetch import fetch
from termgate.upstream_client.pool import UpstreamPool


def pool_fetch(pool: UpstreamPool, upstream_host: str) -> Fetch:
    async def get(target: str) -> tuple[int, bytes]:
        return await fetch(pool, upstream_host, target)

    return get


def tenant_resolver(settings: Settings, pool: UpstreamPool, upstream_host: str) -> TenantResolver:
    """TenancyConfigError if the tenancy file is not valid (the gateway must not start)."""
    return TenantResolver(
        load_tenancy(settings.tenancy_path),
        pool_fetch(pool, upstream_host),
        capacity=settings.tenancy_capacity,
        refresh_seconds=settings.tenancy_refresh_seconds,
    )

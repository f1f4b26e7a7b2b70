"""The termgate process: the gateway under the API prefix, the control plane everywhere else.

Served by termgate's own HTTP/1.1 server (`termgate.http_server`: llhttp and the application on
one uvloop thread, no hand-off between threads per request; docs/performance.md), over the part of
RSGI termgate uses. Each worker process builds its own `TermgateServer` from the settings, loads
the access snapshot and the API's operations before it accepts a request, and flushes its
usage events when it stops.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import orjson

from termgate.asgi_bridge import ASGIBridge
from termgate.core import logs
from termgate.core.access_log import AccessLog
from termgate.core.faults import EXPECTED
from termgate.core.faults import describe as describe_fault
from termgate.core.proxies import ClientAddresses, TrustedProxies
from termgate.db.engine import create_engine, session_factory
from termgate.due_process.scheduler import Scheduler
from termgate.gateway.catalog import Catalog
from termgate.gateway.metrics import gateway_registry
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.openapi_source import (
    DocumentError,
    check_document,
    describe,
    log_issues,
    read_document_file,
)
from termgate.gateway.pipeline import Gateway
from termgate.gateway.snapshot import SnapshotHolder
from termgate.gateway.tenancy.upstream import tenant_resolver
from termgate.gateway.traffic.step import build_traffic_policy
from termgate.gateway.usage_spool import UsageSpool
from termgate.governance.retention import prune_daily
from termgate.http_server.stepped import in_task
from termgate.monitoring.detection_thread import DetectionThread
from termgate.monitoring.policy import load_detector_policies
from termgate.notify.outbox import deliver_forever
from termgate.preflight import StartupError, preflight
from termgate.problems import ERRORS_PAGE, ProblemWriter
from termgate.registry.scopes import api_scopes
from termgate.secret_settings import HIDDEN, mask_url
from termgate.settings import Settings, SettingsError, get_settings, proxy_networks
from termgate.upstream_client.fetch import fetch_json
from termgate.upstream_client.pool import UpstreamError, UpstreamPool
from termgate.web.app import create_control_app

log = logging.getLogger("termgate")


async def fetch_openapi(pool: UpstreamPool, upstream_host: str, path: str) -> dict[str, Any]:
    """Read the upstream's OpenAPI document over the gateway's own connection pool."""
    return await fetch_json(pool, upstream_host, path)


def access_log(settings: Settings, trusted: TrustedProxies) -> AccessLog | None:
    """The access log when `TERMGATE_ACCESS_LOG` is on; None keeps the request path as it was."""
    if not settings.access_log:
        return None
    return AccessLog(trusted)


class TermgateServer:
    """The RSGI application each worker runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        upstream = urlsplit(str(settings.upstream_url))
        self.upstream_host = upstream.netloc
        self.openapi_path = settings.upstream_openapi_url or "/openapi.json"
        self.engine = create_engine(settings.database_url)
        sessions = self.sessions = session_factory(self.engine)
        self.pool = UpstreamPool(
            upstream.hostname or "127.0.0.1",
            upstream.port or 80,
            max_idle=settings.upstream_pool_size,
            connect_timeout=settings.upstream_connect_timeout,
            timeout=settings.upstream_timeout,
        )
        trusted = TrustedProxies(proxy_networks(settings.trusted_proxies))
        self.gateway = Gateway(
            SnapshotHolder(
                sessions,
                settings.snapshot_refresh_seconds,
                settings.clock_offset_seconds,
                settings.issuer,
                freeze_heap=True,
            ),
            self.pool,
            UsageRecorder(
                self.engine,
                flush_seconds=settings.usage_flush_seconds,
                batch_size=settings.usage_batch_size,
                buffer_limit=settings.usage_buffer_limit,
                spool=UsageSpool(spool) if (spool := settings.usage_spool_path) else None,
                spool_seconds=settings.usage_spool_seconds,
                access=access_log(settings, trusted),
                clients=ClientAddresses(trusted),  # the usage events' client_ip
                clock_offset=settings.clock_offset_seconds,
                writer_thread=True,
            ),
            self.upstream_host,
            settings.base_url,
            build_traffic_policy(
                settings.limiter_backend,
                settings.redis_url,
                settings.redis_failure,
                settings.redis_timeout,
                settings.clock_offset_seconds,
            ),
            body_timeout=settings.request_body_timeout,
            errors=ProblemWriter(
                settings.errors_url or settings.base_url + ERRORS_PAGE,
                settings.problem_content_type,
            ),
            resolver=tenant_resolver(settings, self.pool, self.upstream_host),
        )
        self.prefix = settings.gateway_prefix
        self._gateway_below = self.prefix + "/"  # the gateway serves the prefix and below it
        self.control_app = create_control_app(settings, self.engine)
        if settings.metrics_token is not None:
            self.control_app.state.web.metrics = gateway_registry(self.gateway)
        self.control = ASGIBridge(self.control_app)
        self._tasks: list[asyncio.Task[None]] = []
        self._detection: DetectionThread | None = None

    async def start(self) -> None:
        await self.gateway.usage.replay()  # what a killed process of this node left in its spool
        await self.gateway.snapshots.reload()
        await self.gateway.traffic.start(self.sessions, self.gateway.snapshots.current.keys)
        await self._load_catalog()
        loop = asyncio.get_running_loop()
        self._tasks += [
            loop.create_task(self.gateway.snapshots.refresh_forever()),
            loop.create_task(self.gateway.usage.run_forever()),
            loop.create_task(self.gateway.traffic.run_forever()),
            loop.create_task(
                prune_daily(self.sessions, self.settings.now, self.settings.usage_retention_days)
            ),
            loop.create_task(deliver_forever(self.sessions, self.settings)),  # the mail outbox
        ]
        if self.settings.scheduler_enabled:  # deadlines: one leader per cluster acts on them
            scheduler = Scheduler(self.engine, self.sessions, self.settings)
            self._tasks.append(loop.create_task(scheduler.run_forever()))
        if self.settings.detect_interval_seconds > 0:  # off the serving loop: see the module
            policies = load_detector_policies(self.settings.terms_dir)
            self._detection = DetectionThread(self.settings, policies)
            self._detection.start()
        if self.gateway.catalog is None:
            self._tasks.append(loop.create_task(self._load_catalog_until_done()))

    def move_clock(self, offset: float) -> None:
        """Move termgate's clock (`clock_offset_seconds`) while serving: the simulator plays weeks
        of traffic in minutes this way. The next requests, tokens, limits and usage events follow
        it; what happened before keeps its time. Only forward: limits assume time does not go back.
        """
        self.settings = self.settings.model_copy(update={"clock_offset_seconds": offset})
        self.control_app.state.web.settings = self.settings
        snapshots = self.gateway.snapshots
        snapshots.clock_offset = offset
        snapshots.current = replace(snapshots.current, clock_offset=offset)
        self.gateway.traffic.clock_offset = offset
        self.gateway.usage.clock_offset = offset

    async def _read_document(self) -> tuple[dict[str, Any], str] | None:
        """The API's OpenAPI document and where it came from; None (logged) when unreadable."""
        file = self.settings.openapi_path
        if file is not None:
            try:
                return await asyncio.to_thread(read_document_file, file), str(file)
            except DocumentError as error:
                log.warning("cannot read the API description: %s", error)
                return None
        source = f"the upstream's {self.openapi_path}"
        try:
            document = await fetch_openapi(self.pool, self.upstream_host, self.openapi_path)
        except (UpstreamError, orjson.JSONDecodeError) as error:
            log.warning("cannot read the API description at %s: %s", self.openapi_path, error)
            return None
        return document, source

    async def _check_document(
        self, document: dict[str, Any], catalog: Catalog, source: str
    ) -> None:
        """The validator's findings, logged and shown beside the catalog's (off the start path)."""
        checked = await asyncio.to_thread(check_document, document)
        log_issues(source, checked)
        self.control_app.state.web.api_description = describe(catalog, checked, source)

    async def _load_catalog(self) -> None:
        read = await self._read_document()
        if read is None:
            return
        document, source = read
        catalog = Catalog.from_openapi(document, self.gateway.resolver.config)
        self.control_app.state.web.scopes = api_scopes(document)
        log.info("gateway knows %d operations from %s", len(catalog.operations), source)
        log_issues(source, catalog.issues)
        self.control_app.state.web.api_description = describe(catalog, None, source)
        self._tasks.append(
            asyncio.get_running_loop().create_task(self._check_document(document, catalog, source))
        )
        self.gateway.catalog = catalog

    async def _load_catalog_until_done(self) -> None:
        while self.gateway.catalog is None:
            await asyncio.sleep(1.0)
            await self._load_catalog()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._detection is not None:
            await asyncio.to_thread(self._detection.stop)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._flush_usage()
        await asyncio.to_thread(self.gateway.usage.stop_thread)
        await self.gateway.traffic.close()
        await self.control_app.state.web.throttle.close()
        await self.pool.close()
        await self.engine.dispose()

    async def _flush_usage(self) -> None:
        """The last flush; a database that is gone is one line saying where the events went."""
        usage = self.gateway.usage
        try:
            await usage.flush()
        except EXPECTED as error:
            where = "kept in the spool for the next start" if usage.spool else "lost"
            log.error(
                "writing usage events at shutdown failed: %s; %d events %s",
                describe_fault(error),
                len(usage.buffer),
                where,
            )
            return
        usage.close()

    # RSGI ---------------------------------------------------------------------------------------

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self.start())

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self.stop())

    def __rsgi__(self, scope: Any, protocol: Any) -> Awaitable[None]:
        # Not a coroutine of its own: it hands the server the chosen application's, which the
        # server awaits directly (one coroutine and frame fewer per request).
        path: str = scope.path
        if path.startswith(self._gateway_below) or path == self.prefix:
            return self.gateway.handle(scope, protocol)
        return in_task(self.control(scope, protocol))  # Starlette (anyio) needs a Task


def create_app() -> TermgateServer:
    """The workers' factory: one server per worker, configured from the environment."""
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    return TermgateServer(settings)


def startup_line(settings: Settings, log_format: str) -> dict[str, object]:
    """The effective configuration `serve` logs once at start, secrets masked."""
    return {
        "listen": f"{settings.host}:{settings.port}",
        "tls": bool(settings.tls_cert_file and settings.tls_key_file),
        "public_url": settings.base_url,
        "database": mask_url(settings.database_url),
        "limiter": settings.limiter_backend,
        "redis": mask_url(settings.redis_url) if settings.redis_url else None,
        "upstream": str(settings.upstream_url),
        "workers": settings.workers,
        "tenancy_file": str(settings.tenancy_path) if settings.tenancy_path else "built-in",
        "trusted_proxies": settings.trusted_proxies or None,
        "secret_key": HIDDEN if settings.secret_key else "generated in TERMGATE_VAR_DIR",
        "smtp": f"{settings.smtp_host}:{settings.smtp_port}",
        "log_format": log_format,
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        "metrics": settings.metrics_token is not None,
    }


def run_server(
    settings: Settings, checked: bool = False, app: str = "termgate.server:create_app"
) -> None:
    """Check the database, Redis, the public URL and TLS files (see `termgate.preflight`) unless
    the caller has (`checked`), then serve until interrupted (workers read the same settings from
    the environment). A failed check is one line on stderr and exit status 1, before the port is
    opened. `app` is the workers' factory (the benches wrap the server to watch it)."""
    from termgate.http_server import run

    try:
        if not checked:
            preflight(settings)
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    used = logs.configure(settings.log_level, settings.log_format)
    logs.get("termgate").info("termgate starting", **startup_line(settings, used))
    tls = None
    if settings.tls_cert_file and settings.tls_key_file:
        tls = (str(settings.tls_cert_file), str(settings.tls_key_file))
    status = run(app, host=settings.host, port=settings.port, workers=settings.workers, tls=tls)
    if status:
        raise SystemExit(status)


if __name__ == "__main__":
    try:
        configured = get_settings()
    except SettingsError as error:
        print(f"error: bad configuration\n{error}", file=sys.stderr)
        raise SystemExit(2) from None
    run_server(configured)

"""The run: the reference API and termgate started, every scenario's parties created, their
actors played in the order of their simulated times with termgate's clock moved to each step's
time before it is sent, detection passes at fixed simulated intervals, the labels written.

Time is compressed by moving the clock, never by rewriting what was recorded: a request at a
simulated 02:13 on day 9 is sent when the clock reads that, so its usage event, its token's
expiry, its rate-limit cell and any finding about it carry that time.
"""

from __future__ import annotations

import asyncio
import heapq
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade_async
from termgate.db.models import UsageEvent
from termgate.identity.end_users import import_end_users
from termgate.reference_api import World, generate
from termgate.registry.products import ensure_default_products
from termgate.registry.terms import publish_reference_terms
from termgate.server import TermgateServer
from termgate.settings import Settings, load_settings
from termgate.simulate import parties as flows
from termgate.simulate.labels import PartyLabel, RunLabels
from termgate.simulate.parties import AppParty, Party, Tokens
from termgate.simulate.plays import (
    Actor,
    Burst,
    Call,
    NewKey,
    Outcome,
    Reach,
    SignIn,
    Step,
    actors_of,
)
from termgate.simulate.reach import choose_logins, reach_of
from termgate.simulate.scenarios import MISUSE_BEHAVIOURS, Scenario, population
from termgate.simulate.services import free_port, reference_api, termgate

PASSWORD = "simulated payroll login"  # every login of the world signs in with it
REQUEST_TIMEOUT = 120.0  # seconds: a loaded machine hashes passwords slowly
REFRESH_MARGIN = 120.0  # seconds before expiry a client refreshes its access token
TRANSPORT_RETRIES = 3  # a GET whose connection broke is sent again this often

# One detection pass at a simulated time: the number of findings recorded or updated.
DetectionPass = Callable[[AsyncSession, datetime], Awaitable[int]]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunConfig:
    seed: int
    days: int
    database_url: str
    labels_path: Path
    scale: float = 1.0
    copies: int = 1
    employees: int = 2000  # the reference API's own default world
    detect_every_hours: float = 6.0
    kinds: tuple[str, ...] = ()  # only these scenario kinds (all when empty)


@dataclass
class Tally:
    requests: int = 0
    gateway_calls: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    first_misuse: float | None = None


def next_midnight() -> datetime:
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


class Simulation:
    """One run over a started termgate (`server`, at `base_url`)."""

    def __init__(
        self,
        config: RunConfig,
        server: TermgateServer,
        sessions: async_sessionmaker[AsyncSession],
        base_url: str,
        detect: DetectionPass | None,
        progress: Progress,
    ) -> None:
        self.config = config
        self.server = server
        self.sessions = sessions
        self.base_url = base_url
        self.detect = detect
        self.progress = progress
        self.now = 0.0  # simulated epoch seconds
        self.passes = 0
        self.reaches: dict[str, Reach] = {}
        self.client = httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT)
        self.burst_client: httpx.AsyncClient | None = None

    def move_to(self, at: float) -> None:
        self.now = max(self.now, at)
        self.server.move_clock(self.now - time.time())

    async def register(self, scenarios: list[Scenario], world: World) -> list[Party]:
        run = secrets.token_hex(3)
        async with self.sessions.begin() as session:
            registered = [
                await flows.register(session, self.server.settings, scenario, run)
                for scenario in scenarios
            ]
        await self.server.gateway.snapshots.reload()
        for party in registered:
            party.logins = choose_logins(world, party.scenario)
            headers = {"X-Forwarded-For": party.scenario.address}
            for app in party.apps:
                for login in party.logins:
                    access, refresh, lifetime = await flows.consent(
                        self.base_url, app, login, PASSWORD, headers
                    )
                    app.tokens.append(Tokens(access, refresh, self.now + lifetime))
        return registered

    async def _token(self, party: Party, app: AppParty, login: int) -> str:
        tokens = app.tokens[login % len(app.tokens)]
        if tokens.expires_at - REFRESH_MARGIN <= self.now:
            form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh}
            access, refresh, lifetime = await flows.exchange(self.client, app, form)
            tokens.access, tokens.refresh = access, refresh
            tokens.expires_at = self.now + lifetime
        return tokens.access

    async def _call(self, party: Party, step: Call) -> Outcome:
        app = party.apps[step.app % len(party.apps)]
        key = app.keys[-1] if step.key < 0 else app.keys[min(step.key, len(app.keys) - 1)]
        headers = {"X-Subscription-Key": key, "X-Forwarded-For": party.scenario.address}
        if step.token == "valid" and app.tokens:
            login = step.login or self.reaches[party.scenario.name].login_for(step.path)
            headers["Authorization"] = f"Bearer {await self._token(party, app, login)}"
        elif step.token == "garbage":
            headers["Authorization"] = f"Bearer {secrets.token_urlsafe(40)}"
        answer = await self._get_with_retries(step.path, headers)
        retry = answer.headers.get("retry-after")
        return Outcome(answer.status_code, float(retry) if retry else 0.0)

    async def _get_with_retries(self, path: str, headers: dict[str, str]) -> httpx.Response:
        """A GET, sent again when the connection broke (a loaded machine drops a few)."""
        for attempt in range(TRANSPORT_RETRIES):
            try:
                return await self.client.get(path, headers=headers)
            except httpx.TransportError:
                if attempt == TRANSPORT_RETRIES - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _sign_in(self, party: Party, step: SignIn) -> Outcome:
        app = party.apps[step.app % len(party.apps)]
        headers = {"X-Forwarded-For": party.scenario.address}
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=REQUEST_TIMEOUT
        ) as client:
            try:
                answer = await flows.sign_in(
                    client, flows.attempt_params(app), step.username, step.password
                )
            except flows.FlowError:
                return Outcome(400)
        return Outcome(answer.status_code)

    async def _new_key(self, party: Party, step: NewKey) -> Outcome:
        app = party.apps[step.app % len(party.apps)]
        async with self.sessions.begin() as session:
            await flows.add_key(session, app, "primary", datetime.fromtimestamp(self.now, UTC))
        await self.server.gateway.snapshots.reload()
        return Outcome(201)

    async def _burst(self, party: Party, step: Burst) -> Outcome:
        app = party.apps[step.app % len(party.apps)]
        headers = {"X-Subscription-Key": app.keys[-1], "X-Forwarded-For": party.scenario.address}
        if app.tokens:  # refreshed once, before: parallel refreshes would reuse a refresh token
            login = self.reaches[party.scenario.name].login_for(step.paths[0])
            headers["Authorization"] = f"Bearer {await self._token(party, app, login)}"
        if self.burst_client is None:
            self.burst_client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=REQUEST_TIMEOUT,
                # New connections each burst: hundreds idle between bursts go stale.
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
            )
        client = self.burst_client
        answers = await asyncio.gather(
            *(client.get(path, headers=headers) for path in step.paths), return_exceptions=True
        )
        # A connection the gateway dropped under the flood is an answer too: status 0, none.
        replied = [answer for answer in answers if isinstance(answer, httpx.Response)]
        for answer in answers:
            if not isinstance(answer, httpx.Response | httpx.TransportError):
                raise answer
        retry = max((float(a.headers.get("retry-after") or 0) for a in replied), default=0.0)
        statuses = tuple(a.status_code if isinstance(a, httpx.Response) else 0 for a in answers)
        return Outcome(max(statuses), retry, statuses)

    async def perform(self, party: Party, step: Step) -> Outcome:
        if isinstance(step, Call):
            return await self._call(party, step)
        if isinstance(step, SignIn):
            return await self._sign_in(party, step)
        if isinstance(step, Burst):
            return await self._burst(party, step)
        return await self._new_key(party, step)

    async def detection_pass(self, at: float) -> None:
        self.move_to(at)
        await self.server.gateway.usage.flush()
        if self.detect is None:
            return
        async with self.sessions.begin() as session:
            await self.detect(session, datetime.fromtimestamp(self.now, UTC))
        self.passes += 1

    async def play(self, registered: list[Party], world: World, origin: float) -> dict[str, Tally]:
        days, every = self.config.days, self.config.detect_every_hours * 3600.0
        queue: list[tuple[float, int, Party, Actor, str, Step]] = []
        tallies = {party.scenario.name: Tally() for party in registered}
        order = 0
        for party in registered:
            logins = party.logins or [world.end_users[0].username]
            reach = self.reaches[party.scenario.name] = reach_of(world, logins, len(party.apps))
            for behaviour, actor in zip(
                party.scenario.behaviours, actors_of(party.scenario, reach, origin, days),
                strict=True,
            ):  # fmt: skip
                step = next(actor, None)
                if step is not None:
                    heapq.heappush(queue, (step.at, order, party, actor, behaviour.kind, step))
                    order += 1
        next_pass, end, shown_day = origin + every, origin + days * 86_400.0, -1
        while queue:
            at, _, party, actor, kind, step = heapq.heappop(queue)
            if at >= end:
                continue
            while next_pass <= at:
                await self.detection_pass(next_pass)
                next_pass += every
            self.move_to(at)
            day = int((self.now - origin) // 86_400)
            if day != shown_day:
                shown_day = day
                self.progress(f"day {day + 1} of {days}")
            outcome = await self.perform(party, step)
            tally = tallies[party.scenario.name]
            tally.requests += 1
            tally.gateway_calls += (
                len(step.paths) if isinstance(step, Burst) else isinstance(step, Call)
            )
            tally.statuses.update(str(status) for status in outcome.statuses or (outcome.status,))
            if kind in MISUSE_BEHAVIOURS and tally.first_misuse is None:
                tally.first_misuse = self.now
            try:
                following = actor.send(outcome)
            except StopIteration:
                continue
            heapq.heappush(queue, (following.at, order, party, actor, kind, following))
            order += 1
        while next_pass <= end:
            await self.detection_pass(next_pass)
            next_pass += every
        return tallies


async def usage_per_application(sessions: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.application_id, func.count()).group_by(UsageEvent.application_id)
        )
        return Counter({str(app): int(count) for app, count in rows.all() if app})


def label_of(party: Party, tally: Tally, usage: Counter[str], origin: float) -> PartyLabel:
    scenario = party.scenario
    start = None
    if not scenario.label.honest:
        first = tally.first_misuse if tally.first_misuse is not None else origin
        start = datetime.fromtimestamp(first, UTC).isoformat()
    return PartyLabel(
        scenario=scenario.name,
        kind=scenario.kind,
        honest=scenario.label.honest,
        clause=scenario.label.clause,
        detectors=list(scenario.label.detectors),
        tolerated=list(scenario.label.tolerated),
        misbehaviour_start=start,
        developer_id=party.developer_id,
        application_ids=[app.id for app in party.apps],
        key_ids=[key for app in party.apps for key in app.key_ids],
        requests=tally.requests,
        gateway_calls=tally.gateway_calls,
        statuses=dict(sorted(tally.statuses.items())),
        usage_events=sum(usage[app.id] for app in party.apps),
    )


def simulation_settings(config: RunConfig, upstream_url: str, offset: float) -> Settings:
    port = free_port()
    return load_settings(
        database_url=config.database_url,
        upstream_url=upstream_url,
        host="127.0.0.1",
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        trusted_proxies="127.0.0.1/32",  # each party's address comes in X-Forwarded-For
        smtp_port=free_port(),
        clock_offset_seconds=offset,
        detect_interval_seconds=0,  # the simulator runs the passes, at simulated times
        usage_spool_seconds=0,  # no spool: a stopped run's events must not reach the next one
        log_level="warning",
    )


async def prepare(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    async with sessions.begin() as session:
        await ensure_default_products(session)
        await publish_reference_terms(session, settings)
        await import_end_users(session, world.end_users, PASSWORD, sandbox=())


async def run(
    config: RunConfig,
    detect: DetectionPass | None,
    progress: Progress = lambda _: None,
    detectors: tuple[str, ...] = (),
) -> RunLabels:
    """Play the population of `config.seed` for `config.days` simulated days; write the labels."""
    started = time.monotonic()
    world = generate(config.seed, config.employees)
    scenarios = population(config.seed, config.days, config.scale, config.copies, config.kinds)
    origin = next_midnight().timestamp()
    async with reference_api(free_port(), config.seed, config.employees) as upstream_url:
        settings = simulation_settings(config, upstream_url, origin - time.time())
        await upgrade_async(settings.database_url, secret_key=settings.session_secret())
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        try:
            await prepare(sessions, settings, world)
            async with termgate(settings) as server:
                simulation = Simulation(
                    config, server, sessions, settings.base_url, detect, progress
                )
                simulation.move_to(origin)
                progress(f"{len(scenarios)} scenarios: creating their parties")
                registered = await simulation.register(scenarios, world)
                tallies = await simulation.play(registered, world, origin)
                await simulation.client.aclose()
                if simulation.burst_client is not None:
                    await simulation.burst_client.aclose()
                passes = simulation.passes
            usage = await usage_per_application(sessions)
        finally:
            await engine.dispose()
    labels = RunLabels(
        seed=config.seed,
        days=config.days,
        scale=config.scale,
        copies=config.copies,
        employees=config.employees,
        database_url=config.database_url,
        origin=datetime.fromtimestamp(origin, UTC).isoformat(),
        end=datetime.fromtimestamp(origin + config.days * 86_400, UTC).isoformat(),
        wall_seconds=round(time.monotonic() - started, 1),
        detection_passes=passes,
        detectors_run=list(detectors),
        parties=[
            label_of(party, tallies[party.scenario.name], usage, origin) for party in registered
        ],
    )
    labels.write(config.labels_path)
    return labels

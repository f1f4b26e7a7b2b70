"""Registry rows for gateway tests, made through the registry's own functions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.tenant_ids import debtor_listing
from termgate.core.user_ids import canonical_user_id
from termgate.db.engine import create_engine
from termgate.db.key_seal import KeySeal
from termgate.db.models import Application, Environment, UsageEvent, new_id
from termgate.db.oauth import EndUser, SigningKey, TokenFamily
from termgate.identity.consents import grant_consent, revoke_family
from termgate.identity.signing_keys import seal_of
from termgate.identity.tokens import open_family, token_for_family
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import PlanTemplate, create_plan, create_product
from termgate.registry.reviews import decide, request_production
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import load_settings


@dataclass(frozen=True)
class IssuedKey:
    key: str
    key_id: str
    application_id: str
    developer_id: str


async def issue_test_key(
    sessions: async_sessionmaker[AsyncSession],
    *,
    operations: str = "*",
    max_page_size: int = 100,
    environment: Environment = Environment.SANDBOX,
) -> IssuedKey:
    """A fresh developer, application and product (with its own plan) and a live key; for a
    production product the application is approved through the review first."""
    suffix = new_id()[:8]
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email=f"dev-{suffix}@example.nl", name=f"Developer {suffix}", actor="tests"
        )
        terms = await publish_reference_terms(session, load_settings())
        await accept_terms(session, developer, terms, "127.0.0.1", "tests")
        application = await create_application(
            session, developer, name=f"App {suffix}", actor="tests"
        )
        if environment is Environment.PRODUCTION:
            request = await request_production(session, application, "", developer.email)
            await decide(session, request.id, approve=True, reason="", actor="tests")
        product = await create_product(
            session,
            slug=f"p-{suffix}",
            name="Test product",
            environment=environment,
            operations=operations,
        )
        plan = await create_plan(
            session, product, PlanTemplate("test", "Test", max_page_size=max_page_size)
        )
        issued = await issue_key(
            session, await subscribe(session, application, plan, actor="tests"), actor="tests"
        )
    return IssuedKey(issued.secret, issued.row.id, application.id, developer.id)


# Every gateway the tests start names this issuer (TERMGATE_PUBLIC_URL), so a token can be minted
# before the gateway's port is known.
TEST_ISSUER = "http://termgate.test"
READ_SCOPES = (
    "user.info.read debtor.info.read company.info.read company.payrollsettings.read "
    "employee.info.read employee.employment.read employee.payment.read employee.leave.read "
    "employee.bankaccount.read employee.document.read"
)


@dataclass(frozen=True)
class IssuedToken:
    """An end user's access token under a consent, with the rows it belongs to."""

    token: str
    end_user_id: str
    consent_id: str
    family_id: str

    def headers(self, key: str) -> dict[str, str]:
        """The two credentials every API request carries."""
        return {"X-Subscription-Key": key, "Authorization": f"Bearer {self.token}"}


async def forget_foreign_signing_keys(database_url: str, seal: KeySeal) -> None:
    """Before a server starts on the shared test database: drop the signing keys other tests
    left there sealed under their own settings' secret keys (not `seal`'s), which would stop its
    start-up check. Keys under `seal` stay, with the tokens they signed. (Each test empties
    every table when it starts; a server started between tests has not had that.)"""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(delete(SigningKey).where(SigningKey.seal_id != seal.seal_id))
    finally:
        await engine.dispose()


def seal_in_tests() -> KeySeal:
    """The seal of the secret key the tests' own servers read (same environment and folder)."""
    return seal_of(load_settings())


async def issue_test_token(
    sessions: async_sessionmaker[AsyncSession],
    application_id: str,
    *,
    debtors: tuple[str, ...] = ("1001",),
    scope: str = READ_SCOPES,
    upstream_user_id: str | int | None = None,  # an int is stored as its decimal string
    now: datetime | None = None,
    issuer: str = TEST_ISSUER,
) -> IssuedToken:
    """An end user, their consent for `application_id` over `debtors` (given with
    `grant_consent`, as the consent page does), a token family and an access token (made with
    the identity module's own signing key and token functions)."""
    suffix = new_id()[:8]
    async with sessions.begin() as session:
        user = EndUser(
            upstream_id=canonical_user_id(
                upstream_user_id or 10_000_000 + int.from_bytes(os.urandom(3), "big")
            ),
            username=f"user-{suffix}",
            email=f"user-{suffix}@example.nl",
            display_name=f"User {suffix}",
            password_hash="-",
            debtor_ids=debtor_listing(debtors),  # as the import stores them
        )
        session.add(user)
        await session.flush()
        consent = await grant_consent(
            session,
            end_user=user,
            application=await session.get_one(Application, application_id),
            scopes=scope,
            debtors=debtors,
            ip="127.0.0.1",
            user_agent="tests",
            now=now or datetime.now(UTC),
        )
        family = await open_family(session, consent)
        token = await token_for_family(
            session, family, issuer, now or datetime.now(UTC), seal_in_tests()
        )
        return IssuedToken(token, user.id, consent.id, family.id)


async def revoke_test_family(sessions: async_sessionmaker[AsyncSession], family_id: str) -> None:
    """Revoke a token family with the identity module's own function (as the token endpoint
    does on a reused refresh token, and a withdrawn consent does for its families)."""
    async with sessions.begin() as session:
        family = await session.get_one(TokenFamily, family_id)
        await revoke_family(session, family, "tests", "tests", datetime.now(UTC))


@dataclass(frozen=True)
class IssuedAccess:
    """A live key and an end user's token for the same application: what a client sends."""

    key: IssuedKey
    token: IssuedToken

    @property
    def headers(self) -> dict[str, str]:
        return self.token.headers(self.key.key)


async def issue_test_access(
    sessions: async_sessionmaker[AsyncSession],
    *,
    debtors: tuple[str, ...] = ("1001",),
    scope: str = READ_SCOPES,
    operations: str = "*",
    max_page_size: int = 100,
    environment: Environment = Environment.SANDBOX,
) -> IssuedAccess:
    """`issue_test_key`, then `issue_test_token` for its application."""
    key = await issue_test_key(
        sessions, operations=operations, max_page_size=max_page_size, environment=environment
    )
    token = await issue_test_token(sessions, key.application_id, debtors=debtors, scope=scope)
    return IssuedAccess(key, token)


def key_event(key: IssuedKey, at: datetime, request_id: str, **fields: object) -> UsageEvent:
    """One usage event of a GET request made with the key, as the usage writer stores it."""
    return UsageEvent(
        at=at,
        request_id=request_id,
        key_id=key.key_id,
        application_id=key.application_id,
        developer_id=key.developer_id,
        method="GET",
        **fields,
    )


def probing_events(access: IssuedAccess, count: int) -> list[UsageEvent]:
    """`count` requests of the access's key naming debtors outside its consent (clause 3.3 c):
    critical cross-tenant probing, ending now."""
    now, key = load_settings().now(), access.key
    return [
        key_event(
            key,
            now - timedelta(seconds=count - i),
            f"probe-{key.key_id[:8]}-{i}",
            operation="/api/debtors/{debtorId}",
            status=403,
            code=40303,
            latency_ms=2.0,
            debtor_id=f"9{i:05d}",
        )
        for i in range(count)
    ]

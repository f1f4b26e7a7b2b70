"""The consent ledger (clauses 3.3 a and 4.4) through the identity and registry functions: which
consent is live, what withdrawing ends, and the plan's cap on the end users and debtors served."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Application, Environment, Plan, Status
from termgate.db.oauth import Consent, EndUser
from termgate.identity.consents import (
    CONSENT_TEXT_VERSION,
    UsersServedCapError,
    all_consents,
    grant_consent,
    live_consents,
    withdraw,
)
from termgate.identity.tokens import open_family
from termgate.registry.applications import create_application
from termgate.registry.keys import subscribe
from termgate.registry.plans import change_limits
from termgate.registry.products import PlanTemplate, create_plan, create_product
from termgate.registry.reviews import decide, request_production
from termgate.registry.status import change_status
from tests.unit.identity_support import end_users
from tests.unit.registry_support import Parties, changes, parties
from tests.unit.test_consents_tokens import audits

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2027, 3, 15, 12, tzinfo=UTC)
ADMIN = "admin:test"


async def capped_plan(
    session: AsyncSession,
    environment: Environment = Environment.SANDBOX,
    **caps: int | None,
) -> Plan:
    product = await create_product(
        session, slug=f"capped-{environment.value}", name="Capped", environment=environment
    )
    return await create_plan(session, product, PlanTemplate("capped", "Capped", **caps))  # type: ignore[arg-type]


async def users(session: AsyncSession, count: int) -> list[EndUser]:
    return await end_users(session, count)


async def consent(
    session: AsyncSession,
    user: EndUser,
    application: Application,
    debtors: Sequence[str] = ("1",),
    at: datetime = NOW,
) -> Consent:
    return await grant_consent(
        session,
        end_user=user,
        application=application,
        scopes="employee.info.read",
        debtors=debtors,
        ip="192.0.2.1",
        user_agent="ua",
        now=at,
    )


async def test_clause_3_3_a_consent_records_who_what_and_when(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        (user,) = await users(session, 1)
        given = await consent(session, user, made.application, ["3", "1"])
        assert (given.end_user_id, given.application_id, given.scopes) == (
            user.id,
            made.application.id,
            "employee.info.read",
        )
        assert (given.debtor_ids, given.granted_at, given.withdrawn_at) == ("1,3", NOW, None)
        assert (given.ip, given.user_agent) == ("192.0.2.1", "ua")
        assert given.consent_text_version == CONSENT_TEXT_VERSION == "consent-1"


async def test_clause_3_3_a_live_consents_newest_first_and_withdrawal_ends_only_its_own(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        made = await parties(session)
        other_app = await create_application(
            session, made.developer, name="Second app", actor="tests"
        )
        (user,) = await users(session, 1)
        # Recorded out of time order, so the order comes from the times alone.
        second = await consent(session, user, other_app, at=NOW + timedelta(minutes=1))
        first = await consent(session, user, made.application)
        assert [c.id for c in await live_consents(session, user.id)] == [second.id, first.id]
        assert [c.id for c in await all_consents(session, user.id)] == [first.id, second.id]
        mine, theirs = await open_family(session, first), await open_family(session, second)
        already = await open_family(session, first)
        already.revoked_at, already.revoke_reason = NOW, "earlier"
        before = await changes(session)
        later = NOW + timedelta(hours=1)
        await withdraw(session, first, "end user withdrew", "end-user:x", later)
        reason = "consent withdrawn: end user withdrew"
        assert (mine.revoked_at, mine.revoke_reason) == (later, reason)
        assert (already.revoked_at, already.revoke_reason) == (NOW, "earlier")
        assert (theirs.revoked_at, second.withdrawn_at) == (None, None)
        assert (await changes(session))[len(before) :] == [
            ("token_family", mine.id),
            ("consent", first.id),
        ]
        assert (await audits(session))[-2:] == [
            ("end-user:x", "revoked-token-family", "token_family", mine.id, reason),
            ("end-user:x", "withdrew-consent", "consent", first.id, "end user withdrew"),
        ]
        assert [c.id for c in await live_consents(session, user.id)] == [second.id]


async def subscribed_to_cap(session: AsyncSession, **caps: int | None) -> tuple[Parties, Plan]:
    made = await parties(session)
    plan = await capped_plan(session, **caps)
    await subscribe(session, made.application, plan, actor="tests")
    return made, plan


async def test_clause_4_4_a_plan_caps_the_end_users_an_application_serves(db: Sessions) -> None:
    async with db.begin() as session:
        made, _ = await subscribed_to_cap(session, max_end_users=2)
        app = made.application
        one, two, three = await users(session, 3)
        await consent(session, one, app)
        await consent(session, two, app, ["2"])
        with pytest.raises(UsersServedCapError, match="already serves the 2 end users"):
            await consent(session, three, app)
        await consent(session, one, app, ["1", "5"])  # an end user already served may consent again
        replaced = await live_consents(session, one.id, app.id)
        await withdraw(session, replaced[0], "gone", "end-user:one", NOW)
        await consent(session, three, app)  # a withdrawn consent frees its place


async def test_clause_4_4_a_plan_caps_the_debtors_an_application_serves(db: Sessions) -> None:
    async with db.begin() as session:
        made, _ = await subscribed_to_cap(session, max_debtors=2)
        app = made.application
        one, two = await users(session, 2)
        await consent(session, one, app, ["1", "2"])
        await consent(session, two, app, ["2"])  # debtors already served
        with pytest.raises(UsersServedCapError, match="serves 2 of the 2 customer accounts"):
            await consent(session, two, app, ["2", "3"])
        assert [c.debtor_ids for c in await live_consents(session, two.id)] == ["2"]


async def test_clause_4_4_consents_beyond_a_lowered_cap_do_not_count_as_served(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        made, plan = await subscribed_to_cap(session)
        app = made.application
        one, two, three = await users(session, 3)
        await consent(session, one, app, ["1"])
        await consent(session, two, app, ["2"], at=NOW + timedelta(seconds=1))
        await consent(session, three, app, ["3", "4"], at=NOW + timedelta(seconds=2))
        await change_limits(session, plan, {"max_end_users": 2, "max_debtors": 3}, ADMIN)
        # one and two are served; three's consent lies beyond the caps, so it serves no one.
        with pytest.raises(UsersServedCapError, match="the 2 end users"):
            await consent(session, three, app, ["3"])
        await consent(session, two, app, ["2", "3"])
        with pytest.raises(UsersServedCapError, match="serves 3 of the 3"):
            await consent(session, one, app, ["4"])


async def test_clause_4_4_each_lowered_cap_alone_puts_later_consents_beyond(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        made, plan = await subscribed_to_cap(session)
        app = made.application
        one, two = await users(session, 2)
        await consent(session, one, app, ["1", "2"])
        await consent(session, two, app, ["3"], at=NOW + timedelta(seconds=1))
        await change_limits(session, plan, {"max_end_users": 1}, ADMIN)
        with pytest.raises(UsersServedCapError, match="the 1 end users"):
            await consent(session, two, app, ["3"])  # two's consent lies beyond: not served
        limits = {"max_end_users": None, "max_debtors": 2}
        await change_limits(session, plan, limits, ADMIN)
        with pytest.raises(UsersServedCapError, match="serves 2 of the 2"):
            await consent(session, two, app, ["3"])  # debtor 3 lies beyond: not served


async def test_clause_4_4_caps_of_plans_not_in_force_do_not_apply(db: Sessions) -> None:
    async with db.begin() as session:
        made, plan = await subscribed_to_cap(session, max_end_users=1, max_debtors=1)
        app = made.application
        subscription = await subscribe(session, app, plan, actor="tests")  # the one it has
        one, two = await users(session, 2)
        # Another application's consents neither count here nor meet this plan's caps.
        sibling = await create_application(
            session, made.developer, name="Uncapped sibling", actor="tests"
        )
        await consent(session, two, sibling, ["2"], at=NOW - timedelta(hours=1))
        await consent(session, one, sibling, ["1"], at=NOW - timedelta(minutes=30))
        await consent(session, one, app)
        await change_status(session, "subscription", subscription.id, Status.SUSPENDED, "t", ADMIN)
        # A suspended subscription's plan caps nothing.
        await consent(session, two, app, ["2"], at=NOW + timedelta(seconds=1))
        await change_status(session, "subscription", subscription.id, Status.ACTIVE, "t", ADMIN)
        with pytest.raises(UsersServedCapError):
            await consent(session, two, app, ["2"])
        request = await request_production(session, app, "live", "developer")
        await decide(session, request.id, approve=True, reason="", actor=ADMIN)
        # In production now: the caps of its sandbox plan do not bind the production traffic.
        await consent(session, two, app, ["2"])


async def test_clause_3_3_a_consents_are_listed_by_the_time_they_were_given(db: Sessions) -> None:
    """The end user's ledger (Art. 7(1) export: oldest first) and connected apps (newest first)
    follow the time of consent, not the order of the rows; ids are random, so five consents
    recorded out of time order would come back in time order by chance once in 120 tries."""
    async with db.begin() as session:
        made = await parties(session)
        (user,) = await users(session, 1)
        given = []
        for minute in (3, 1, 5, 2, 4):
            app = await create_application(
                session, made.developer, name=f"App {minute}", actor="tests"
            )
            given.append(await consent(session, user, app, at=NOW + timedelta(minutes=minute)))
        oldest_first = [c.id for c in sorted(given, key=lambda c: c.granted_at)]
        assert [c.id for c in await all_consents(session, user.id)] == oldest_first
        assert [c.id for c in await live_consents(session, user.id)] == oldest_first[::-1]

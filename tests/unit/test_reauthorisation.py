"""Clause 3.3 a: authorising an application again keeps the integrations already running.

Each token family keeps the scopes and debtors it was authorised with. A new consent of the same
end user to the same application takes over every family it covers and revokes the others;
withdrawing the consent revokes every family, taken-over ones included.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from termgate.db.key_seal import KeySeal
from termgate.db.models import Application, Plan, Subscription
from termgate.db.oauth import Consent, EndUser, TokenFamily
from termgate.gateway.snapshot import load_snapshot
from termgate.identity.consents import (
    REPLACED,
    end_user_actor,
    grant_consent,
    withdraw,
    withdrawn_from,
)
from termgate.identity.oauth.context import OAuthContext
from termgate.identity.oauth.grants import grantee_of
from termgate.identity.tokens import VerifiedTokens, open_family, public_keys, token_for_family
from termgate.settings import load_settings
from tests.unit.registry_support import changes, parties
from tests.unit.test_consents_tokens import ISSUER, audits, end_user

Sessions = async_sessionmaker[AsyncSession]
START = datetime.now(UTC).replace(microsecond=0)

SEAL = KeySeal.from_secret("unit-tests-secret-key-" + "s" * 32)


async def consent_to(
    session: AsyncSession,
    user: EndUser,
    application: Application,
    scopes: str,
    debtors: Sequence[str],
    minutes: int,
) -> Consent:
    return await grant_consent(
        session,
        end_user=user,
        application=application,
        scopes=scopes,
        debtors=debtors,
        ip="192.0.2.1",
        user_agent="ua",
        now=START + timedelta(minutes=minutes),
    )


async def claims_of(session: AsyncSession, family: TokenFamily) -> tuple[str, set[str], set[str]]:
    """The consent, scopes and debtors an access token of `family` carries, issued now."""
    signed = await token_for_family(session, family, ISSUER, START, SEAL)
    claims = VerifiedTokens(await public_keys(session), ISSUER).verify(signed, START.timestamp())
    return claims.consent_id, set(claims.scopes), set(claims.debtors)


async def test_clause_3_3_a_second_authorisation_keeps_the_first_integration_refreshing(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        actor = end_user_actor(user.id)
        first = await consent_to(session, user, made.application, "a.read offline_access", ["7"], 0)
        running = await open_family(session, first)
        feed = len(await changes(session))
        second = await consent_to(
            session, user, made.application, "a.read offline_access", ["7"], 5
        )
        device = await open_family(session, second)

        assert (running.revoked_at, running.consent_id) == (None, second.id)
        assert (first.withdrawn_at, first.withdrawal_reason) == (
            START + timedelta(minutes=5),
            REPLACED,
        )
        assert second.withdrawn_at is None
        # The gateway reloads for the replaced consent; no family is revoked.
        assert (await changes(session))[feed:] == [("consent", first.id)]
        trail = await audits(session)
        assert trail[-3:] == [
            (actor, "granted-consent", "consent", second.id, trail[-3][4]),
            (
                actor,
                "kept-token-family",
                "token_family",
                running.id,
                f"covered by the new consent {second.id}",
            ),
            (actor, "replaced-consent", "consent", first.id, second.id),
        ]
        # Both integrations get tokens: under the live consent, each with its own claims.
        assert await claims_of(session, running) == (second.id, {"a.read", "offline_access"}, {"7"})
        assert await claims_of(session, device) == (second.id, {"a.read", "offline_access"}, {"7"})


async def test_clause_3_3_a_wider_consent_keeps_an_earlier_family_at_its_own_claims(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        first = await consent_to(session, user, made.application, "a.read", ["7"], 0)
        running = await open_family(session, first)
        wider = await consent_to(session, user, made.application, "a.read b.read", ["7", "8"], 5)
        added = await open_family(session, wider)

        assert running.revoked_at is None
        # A refreshed token of the earlier family does not gain what the new consent added.
        assert await claims_of(session, running) == (wider.id, {"a.read"}, {"7"})
        assert await claims_of(session, added) == (wider.id, {"a.read", "b.read"}, {"7", "8"})


async def test_clause_3_3_a_narrower_consent_revokes_exactly_the_families_beyond_it(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        app = made.application
        first = await consent_to(session, user, app, "a.read", ["7"], 0)
        narrow = await open_family(session, first)
        wide = await open_family(
            session, await consent_to(session, user, app, "a.read b.read", ["7", "8"], 5)
        )
        feed = len(await changes(session))
        without_8 = await consent_to(session, user, app, "a.read b.read", ["7"], 10)

        assert (wide.revoked_at, wide.revoke_reason) == (
            START + timedelta(minutes=10),
            f"the new consent {without_8.id} withdrew debtors 8",
        )
        assert (narrow.revoked_at, narrow.consent_id) == (None, without_8.id)
        changed = (await changes(session))[feed:]
        assert ("token_family", wide.id) in changed
        assert ("token_family", narrow.id) not in changed

        without_a = await consent_to(session, user, app, "b.read", ["7", "8"], 15)
        assert narrow.revoke_reason == f"the new consent {without_a.id} withdrew scopes a.read"
        assert narrow.revoked_at == START + timedelta(minutes=15)
        assert wide.revoke_reason == f"the new consent {without_8.id} withdrew debtors 8"

        # The gateway's snapshot refuses both families' tokens from its next load.
        snapshot = await load_snapshot(session)
        assert {wide.id, narrow.id} <= snapshot.revoked


async def test_clause_3_3_a_withdrawing_revokes_taken_over_families_too(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        actor = end_user_actor(user.id)
        first = await consent_to(session, user, made.application, "a.read", ["7"], 0)
        running = await open_family(session, first)
        second = await consent_to(session, user, made.application, "a.read", ["7", "8"], 5)
        device = await open_family(session, second)
        assert running.revoked_at is None

        later = START + timedelta(minutes=30)
        await withdraw(session, second, "revoked by the end user", actor, later)
        for family in (running, device):
            assert (family.revoked_at, family.revoke_reason) == (
                later,
                "consent withdrawn: revoked by the end user",
            )
        assert (second.withdrawn_at, first.withdrawn_at) == (later, START + timedelta(minutes=5))
        assert {running.id, device.id} <= (await load_snapshot(session)).revoked


def test_clause_3_3_a_what_a_new_consent_withdraws_from_a_family() -> None:
    def family(scope: str, debtors: str) -> TokenFamily:
        return TokenFamily(scope=scope, debtor_ids=debtors)

    def consent(scopes: str, debtors: str) -> Consent:
        return Consent(scopes=scopes, debtor_ids=debtors)

    same = consent("employee.info.read offline_access", "7,8")
    assert withdrawn_from(family("employee.info.read offline_access", "7,8"), same) is None
    assert withdrawn_from(family("employee.info.read", "8"), same) is None
    # A write scope grants its read scope, not the other way round.
    assert withdrawn_from(family("employee.info.read", "7"), consent("employee.info", "7")) is None
    assert (
        withdrawn_from(family("employee.info", "7"), consent("employee.info.read", "7"))
        == "scopes employee.info"
    )
    assert (
        withdrawn_from(family("a.read offline_access c.read", "9,7,10"), consent("c.read", "7"))
        == "debtors 9,10; scopes a.read offline_access"
    )


async def test_clause_3_3_a_refresh_refuses_a_family_beyond_its_live_consent(db: Sessions) -> None:
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        consent = await consent_to(session, user, made.application, "a.read", ["7"], 0)
        family = await open_family(session, consent)

        def grantees(sync: Session) -> tuple[bool, bool]:
            context = OAuthContext(
                db=sync,
                settings=load_settings(),
                now=START,
                key=ECKey.generate_key("P-256"),
                jwks={"keys": []},
                scopes_supported=["a.read"],
            )
            within = grantee_of(context, family) is not None
            family.debtor_ids = "7,8"  # as if a narrowing had missed it
            return within, grantee_of(context, family) is not None

        assert await session.run_sync(grantees) == (True, False)


async def test_clause_4_4_users_served_at_the_gateway_are_end_users_not_consents(
    db: Sessions,
) -> None:
    """A family taken over by a later consent keeps tokens naming the earlier one; the cap on
    users served must still reach them, so the snapshot names end users."""
    async with db.begin() as session:
        made = await parties(session)
        served = await end_user(session, "11")
        beyond = await end_user(session, "12")
        await consent_to(session, served, made.application, "a.read", ["7"], 0)
        await consent_to(session, beyond, made.application, "a.read", ["8"], 1)
        await consent_to(session, beyond, made.application, "a.read", ["8"], 2)
        subscription = await session.get_one(Subscription, made.subscription.id)
        plan = await session.get_one(Plan, subscription.plan_id)
        plan.max_end_users = 1  # lowered after both consented
        snapshot = await load_snapshot(session)
        (key,) = snapshot.keys.values()
        assert key.over_cap == {beyond.id}


async def test_clause_3_3_a_replacing_moves_live_families_oldest_first_and_leaves_ended_ones(
    db: Sessions,
) -> None:
    """The audit trail lists the families a new consent took over in the order they were
    authorised; a family already ended stays with its consent, ended, and is not mentioned."""
    async with db.begin() as session:
        made = await parties(session)
        user = await end_user(session)
        first = await consent_to(session, user, made.application, "a.read", ["7"], 0)
        # Opened out of time order (ids are random), so the order can only come from the times.
        opened = [
            await open_family(session, first, now=START + timedelta(minutes=minute))
            for minute in (3, 1, 5, 2, 4)
        ]
        ended = await open_family(session, first, now=START)
        ended.revoked_at, ended.revoke_reason = START, "ended before"
        assert [family.created_at for family in opened] == [
            START + timedelta(minutes=minute) for minute in (3, 1, 5, 2, 4)
        ]
        oldest_first = sorted(opened, key=lambda family: family.created_at)
        second = await consent_to(session, user, made.application, "a.read", ["7"], 5)

        kept = [row for row in await audits(session) if row[1] == "kept-token-family"]
        assert [row[3] for row in kept] == [family.id for family in oldest_first]
        assert (ended.consent_id, ended.revoked_at, ended.revoke_reason) == (
            first.id,
            START,
            "ended before",
        )
        assert {family.consent_id for family in opened} == {second.id}

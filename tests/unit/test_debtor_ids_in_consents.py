"""GUID debtor ids in the consent ledger (clause 3.3 a): an end user's visible debtors, their
consent and the token family under it hold canonical strings; a consent naming anything else,
or a debtor the end user does not see, is refused and nothing is recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import RegistryError
from termgate.db.key_seal import KeySeal
from termgate.db.models import Environment
from termgate.db.oauth import Consent, EndUser
from termgate.identity.consents import ConsentDebtorsError, grant_consent, withdrawn_from
from termgate.identity.end_users import import_end_users
from termgate.identity.tokens import VerifiedTokens, open_family, public_keys, token_for_family
from tests.unit.registry_support import parties

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2027, 3, 15, 12, tzinfo=UTC)
ISSUER = "https://id.example"
GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"
OTHER = "0f3c2d1e-0000-4000-8000-00000000beef"
UNSEEN = "9d1e6c55-1234-4abc-8def-000000000001"

SEAL = KeySeal.from_secret("unit-tests-secret-key-" + "s" * 32)


@dataclass(frozen=True)
class Login:
    """A login as an identity store of the published contract describes it."""

    id: int
    username: str
    email: str
    display_name: str
    debtor_ids: tuple[int | str, ...]


def login(upstream_id: int, *debtors: int | str) -> Login:
    name = f"guid{upstream_id}"
    return Login(upstream_id, name, f"{name}@example.nl", name.title(), debtors)


async def imported(session: AsyncSession, *debtors: int | str) -> EndUser:
    (user,) = await import_end_users(session, [login(31, *debtors)], "a long enough password")
    return user


async def consent_over(session: AsyncSession, user: EndUser, debtors: list[str]) -> Consent:
    made = await parties(session)
    return await grant_consent(
        session,
        end_user=user,
        application=made.application,
        scopes="debtor.info.read",
        debtors=debtors,
        ip="192.0.2.1",
        user_agent="ua",
        now=NOW,
    )


async def test_clause_3_3_a_imported_guid_debtors_are_stored_canonical(db: Sessions) -> None:
    async with db.begin() as session:
        user = await imported(session, GUID.upper(), OTHER, GUID)
        assert user.debtors == (OTHER, GUID)
        assert user.environment is Environment.PRODUCTION
        sandbox = (await import_end_users(session, [login(32, 1002, "1001")], "-" * 12))[0]
        assert (sandbox.debtors, sandbox.environment) == (("1001", "1002"), Environment.SANDBOX)


async def test_clause_3_3_a_an_identity_store_naming_no_debtor_id_is_refused(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        with pytest.raises(RegistryError, match=r"^login guid31: '1001,1002' is not a customer"):
            await imported(session, "1001,1002")
        assert await session.scalar(select(func.count()).select_from(EndUser)) == 0


async def test_clause_3_3_a_a_consent_over_guid_debtors_reaches_the_token(db: Sessions) -> None:
    async with db.begin() as session:
        user = await imported(session, GUID, OTHER)
        consent = await consent_over(session, user, [GUID.upper()])
        assert consent.debtors == (GUID,)
        family = await open_family(session, consent)
        assert family.debtors == (GUID,)
        signed = await token_for_family(session, family, ISSUER, NOW, SEAL)
        claims = VerifiedTokens(await public_keys(session), ISSUER).verify(signed, NOW.timestamp())
        assert claims.debtors == {GUID}
        assert withdrawn_from(family, consent) is None
        narrower = Consent(scopes=consent.scopes, debtor_ids=OTHER)
        assert withdrawn_from(family, narrower) == f"debtors {GUID}"


@pytest.mark.parametrize(
    ("debtors", "reason"),
    [
        ([f"{GUID},{OTHER}"], f"'{GUID},0… is not a customer account id"),
        ([f"{GUID} "], "is not a customer account id"),
        ([f"{GUID}\x00"], "is not a customer account id"),
        (["{" + GUID + "}"], "is not a customer account id"),
        ([GUID, UNSEEN.upper()], f"this login does not see the customer accounts {UNSEEN}"),
        (["1001"], "this login does not see the customer accounts 1001"),
        ([], "a consent names at least one customer account"),
    ],
)
async def test_clause_3_3_a_a_consent_naming_anything_else_is_refused_whole(
    db: Sessions, debtors: list[str], reason: str
) -> None:
    async with db.begin() as session:
        user = await imported(session, GUID, OTHER)
        with pytest.raises(ConsentDebtorsError, match=re.escape(reason)):
            await consent_over(session, user, debtors)
        assert await session.scalar(select(func.count()).select_from(Consent)) == 0

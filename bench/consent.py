"""The bench's end user: a consent of the seeded application over the debtors the bench names
(ids read from the upstream), its token family, and an access token minted with the database's
signing key, made with the identity module's own rows and functions (as the OAuth server would
have made them)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from termgate.db.engine import create_engine, session_factory
from termgate.db.oauth import Consent, EndUser
from termgate.identity.signing_keys import seal_of
from termgate.identity.tokens import open_family, token_for_family
from termgate.settings import load_settings

SCOPE = "debtor.info.read company.info.read employee.info.read"


async def _mint(
    database_url: str, application_id: str, issuer: str, debtors: tuple[str, ...]
) -> str:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            user = EndUser(
                upstream_id="990001",
                username="bench-user",
                email="bench-user@example.nl",
                display_name="Bench User",
                password_hash="-",
                debtor_ids=",".join(debtors),
            )
            session.add(user)
            await session.flush()
            consent = Consent(
                end_user_id=user.id,
                application_id=application_id,
                scopes=SCOPE,
                debtor_ids=user.debtor_ids,
                consent_text_version="bench",
                ip="127.0.0.1",
                user_agent="bench",
            )
            session.add(consent)
            await session.flush()
            family = await open_family(session, consent)
            seal = seal_of(load_settings())  # the secret key the benched server runs with
            return await token_for_family(session, family, issuer, datetime.now(UTC), seal)
    finally:
        await engine.dispose()


def mint_token(
    database_url: str, application_id: str, issuer: str, debtors: tuple[str, ...]
) -> str:
    """An access token of `application_id` for the bench's end user over `debtors` (valid one
    hour)."""
    return asyncio.run(_mint(database_url, application_id, issuer, debtors))

"""Runs the synchronous authorization server on the request's async session."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from termgate.db.oauth import TokenFamily
from termgate.identity.consents import revoke_family
from termgate.identity.oauth.context import OFFLINE_ACCESS, OAuthContext
from termgate.identity.oauth.server import TermgateAuthorizationServer
from termgate.identity.signing_keys import public_keys, seal_of, signing_key
from termgate.settings import Settings

Result = TypeVar("Result")
ACTOR = "authorization-server"


def supported_scopes(api_scopes: Iterable[str]) -> list[str]:
    return [*sorted(api_scopes), OFFLINE_ACCESS]


async def run_authorization_server(
    session: AsyncSession,
    settings: Settings,
    api_scopes: Iterable[str],
    action: Callable[[TermgateAuthorizationServer], Result],
) -> Result:
    """`action` runs with a server over the session's sync twin; revocations it decided on are
    then recorded (audit, change feed) in the same transaction."""
    key = await signing_key(session, seal_of(settings))
    jwks = await public_keys(session)
    now = settings.now()
    scopes = supported_scopes(api_scopes)

    def work(db: Session) -> tuple[Result, list[tuple[str, str]]]:
        context = OAuthContext(db, settings, now, key, jwks, scopes)
        return action(TermgateAuthorizationServer(context)), context.revocations

    result, revocations = await session.run_sync(work)
    for family_id, reason in dict.fromkeys(revocations):
        family = await session.get(TokenFamily, family_id)
        if family is not None:
            await revoke_family(session, family, reason, ACTOR, now)
    return result

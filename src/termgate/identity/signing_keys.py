"""The keys that sign access tokens: made, published, rotated, re-sealed and pruned.

Private halves are sealed at rest (`termgate.db.key_seal`); the JWKS is built from the public
halves alone, so a gateway verifies without the secret key.

Rotation publishes before it signs: a new key is in the JWKS at once but signs only from its
`activates_at`, by default twice the JWKS's cache lifetime later, so every verifier that caches
the JWKS (ours re-read it on the change feed; third parties honour its max-age) knows the key
before the first token it signed arrives. The old key signs until then and stays published for
verification; `prune` drops it once every token it signed has expired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.db.key_seal import KeySeal, SealError, seal_for
from termgate.db.models import new_id, utcnow
from termgate.db.oauth import SigningKey
from termgate.settings import Settings

ALGORITHM = "ES256"
JWKS_MAX_AGE = 300  # seconds the JWKS document may be cached (its Cache-Control)
PUBLISH_BEFORE_USE = timedelta(seconds=2 * JWKS_MAX_AGE)


def seal_of(settings: Settings) -> KeySeal:
    """The seal of the configured secret key (TERMGATE_SECRET_KEY, or the one kept in the var
    folder when it is unset)."""
    return seal_for(settings.session_secret())


def _new_key(seal: KeySeal, activates_at: datetime, now: datetime) -> SigningKey:
    key = ECKey.generate_key("P-256", parameters={"kid": new_id(), "use": "sig"})
    kid = str(key.kid)
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        public_jwk=json.dumps(key.as_dict(private=False)),
        sealed_jwk=seal.seal(kid, json.dumps(key.as_dict(private=True))),
        seal_id=seal.seal_id,
        created_at=now,
        activates_at=activates_at,
    )


async def _active(session: AsyncSession, now: datetime) -> SigningKey | None:
    return await session.scalar(
        select(SigningKey)
        .where(SigningKey.activates_at <= now)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now))
        .order_by(SigningKey.activates_at.desc(), SigningKey.created_at.desc())
        .limit(1)
    )


async def signing_key(session: AsyncSession, seal: KeySeal, now: datetime | None = None) -> ECKey:
    """The key that signs now, made on first use (active at once: no verifier can hold an
    older one). `SealError` when it was sealed under another secret key. Key lifetimes run on
    the real clock, not the business clock a demo may move."""
    now = now or utcnow()
    row = await _active(session, now)
    if row is None:
        row = _new_key(seal, now, now)
        session.add(row)
        await session.flush()
        record_access_change(session, "signing_key", row.kid)  # gateways load its public half
    return ECKey.import_key(json.loads(seal.open(row.kid, row.sealed_jwk)))


async def public_keys(session: AsyncSession) -> dict[str, Any]:
    """The JWKS document: the public halves of every key whose tokens may still be live, and
    of a key published ahead of its use."""
    keys = []
    for row in await session.scalars(select(SigningKey).order_by(SigningKey.created_at)):
        keys.append({**json.loads(row.public_jwk), "alg": row.algorithm, "use": "sig"})
    return {"keys": keys}


async def rotate(
    session: AsyncSession,
    seal: KeySeal,
    actor: str,
    now: datetime | None = None,
    publish_for: timedelta = PUBLISH_BEFORE_USE,
) -> SigningKey:
    """A new key, published now and signing from `now + publish_for`; the keys signing until
    then retire at that moment (published still, for the tokens they signed). With no key
    signing yet, nobody can hold an older one: the new key signs at once."""
    now = now or utcnow()
    signing_now = await _active(session, now)
    new = _new_key(seal, now + publish_for if signing_now else now, now)
    for row in await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = max(new.activates_at, row.activates_at)
    session.add(new)
    await session.flush()
    record_access_change(session, "signing_key", new.kid)
    await record(
        session,
        actor,
        "signing_key.rotated",
        "signing_key",
        new.kid,
        f"signs from {new.activates_at.isoformat(timespec='seconds')}",
    )
    return new


@dataclass(frozen=True, slots=True)
class Rewrapped:
    resealed: list[str]
    already: list[str]


async def rewrap(session: AsyncSession, old: KeySeal, new: KeySeal, actor: str) -> Rewrapped:
    """Re-seal every key sealed under `old` with `new` (after a change of the secret key).
    Keys already under `new` are left alone; a key under neither raises `SealError` and
    changes nothing (the caller's transaction rolls back)."""
    resealed, already = [], []
    for row in await session.scalars(select(SigningKey).order_by(SigningKey.created_at)):
        if row.seal_id == new.seal_id:
            new.open(row.kid, row.sealed_jwk)  # damaged rows are reported, not skipped
            already.append(row.kid)
            continue
        if row.seal_id != old.seal_id:
            raise SealError(
                f"signing key {row.kid} is sealed under neither secret key (seal id "
                f"{row.seal_id}; old {old.seal_id}, current {new.seal_id})"
            )
        row.sealed_jwk = new.seal(row.kid, old.open(row.kid, row.sealed_jwk))
        row.seal_id = new.seal_id
        resealed.append(row.kid)
    if resealed:
        await record(
            session, actor, "signing_key.rewrapped", "signing_key", ",".join(resealed)[:200]
        )
    return Rewrapped(resealed, already)


async def prune(
    session: AsyncSession, token_lifetime: timedelta, actor: str, now: datetime | None = None
) -> list[str]:
    """Drop keys retired longer ago than a token lives: nothing they signed is still valid."""
    before = (now or utcnow()) - token_lifetime
    kids = list(
        await session.scalars(
            select(SigningKey.kid).where(
                SigningKey.retired_at.is_not(None), SigningKey.retired_at < before
            )
        )
    )
    if kids:
        await session.execute(delete(SigningKey).where(SigningKey.kid.in_(kids)))
        for kid in kids:
            record_access_change(session, "signing_key", kid)
            await record(session, actor, "signing_key.pruned", "signing_key", kid)
    return kids


def state(row: SigningKey, now: datetime) -> str:
    if row.retired_at is not None and row.retired_at <= now:
        return "retired"
    return "active" if row.activates_at <= now else "published"


async def listed(session: AsyncSession) -> list[SigningKey]:
    return list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at)))

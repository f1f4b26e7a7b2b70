"""Applications as OAuth 2 clients: the client_id is the application's id; a confidential
client's secret is shown once and stored as its SHA-256 (it carries 256 random bits)."""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.secrets import generate_key, hash_key
from termgate.db.models import Application

SECRET_PREFIX = "tgs_"


async def issue_client_secret(session: AsyncSession, application: Application, actor: str) -> str:
    """A new secret; the previous one stops working at once."""
    secret = SECRET_PREFIX + generate_key()
    application.client_secret_hash = hash_key(secret)
    await record(session, actor, "issued-client-secret", "application", application.id)
    return secret


def client_secret_matches(application: Application, secret: str) -> bool:
    stored = application.client_secret_hash
    return stored is not None and hmac.compare_digest(stored, hash_key(secret))


def is_public(application: Application) -> bool:
    """Without a secret a client is public: it must use PKCE, and cannot authenticate."""
    return application.client_secret_hash is None

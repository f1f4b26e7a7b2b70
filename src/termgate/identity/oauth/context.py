"""What Authlib's synchronous callbacks work with during one request.

Authlib's server is synchronous, so it runs inside `AsyncSession.run_sync`, whose callbacks get a
plain `Session` over the async engine (SQLAlchemy's greenlet bridge). What needs awaiting (the
signing key, the audit trail) is prepared before and carried out after; revocations the callbacks
decide on are collected here and recorded once the callbacks have returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from termgate.settings import Settings

OFFLINE_ACCESS = "offline_access"
CODE_LIFETIME = timedelta(minutes=5)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
REFRESH_TOKEN_PREFIX = "tgr_"


@dataclass
class OAuthContext:
    db: Session
    settings: Settings
    now: datetime
    key: ECKey
    jwks: dict[str, Any]
    # The API's scopes plus offline_access: what a client may ask for at all.
    scopes_supported: list[str]
    revocations: list[tuple[str, str]] = field(default_factory=list)

    def revoke_family(self, family_id: str, reason: str) -> None:
        self.revocations.append((family_id, reason))

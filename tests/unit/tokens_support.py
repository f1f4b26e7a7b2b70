"""Real ES256 access tokens signed with a key made in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from termgate.identity.tokens import issue_access_token

ISSUER = "https://id.example"
KEY = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig"})
OTHER_KEY = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig"})
ISSUED = datetime(2027, 1, 1, tzinfo=UTC)
ISSUED_AT = ISSUED.timestamp()


def jwks(key: ECKey = KEY) -> dict[str, Any]:
    return {"keys": [{**key.as_dict(private=False), "alg": "ES256", "use": "sig"}]}


def token(key: ECKey = KEY, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": "app-1",
        "end_user_id": "user-1",
        "upstream_user_id": "11",
        "scope": "employee.info payroll.read",
        "debtors": ("7", "8"),
        "family_id": "family-1",
        "consent_id": "consent-1",
        "now": ISSUED,
    }
    fields.update(changes)
    return issue_access_token(key, **fields)


def raw_token(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    head = header or {"alg": "ES256", "typ": "at+jwt", "kid": "k1"}
    return jwt.encode(head, claims, KEY, algorithms=["ES256"])


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": "payroll-api",
        "client_id": "app-1",
        "iat": int(ISSUED_AT),
        "exp": int(ISSUED_AT) + 3600,
        "scope": "a.read",
        "uid": 11,
        "debtors": ["7"],
        "grant": "family-1",
        "consent": "consent-1",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}

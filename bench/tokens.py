"""What identifying the end user costs per request, for three token designs (in process).

    uv run python bench/tokens.py          (run by bench/run.sh after the main table)

(a) an ES256 JWT whose signature is verified on every request;
(b) the same JWT through the gateway's cache (`gateway.bearer.BearerTokens`, over
    `identity.tokens.VerifiedTokens`): verified once, then a dict lookup, the expiry, the
    revocation set and the client check; the chosen design;
(c) an opaque random token, looked up by its SHA-256 in a dict, as subscription keys are.

Each request's `Authorization` value is a new string (as the server hands it over), so its hash
is computed every time; making that string is measured alone and subtracted.
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from joserfc.jwk import ECKey

from termgate.gateway.bearer import BearerTokens
from termgate.identity.tokens import VerifiedTokens, issue_access_token

ISSUER = "http://127.0.0.1:8000"
# Five debtors, as GUIDs like the published contract's (they make the token's size).
DEBTORS = tuple(str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-debtor-{n}")) for n in range(5))
ROUNDS = 5


def _best_us(loop: Callable[[int], None], count: int) -> float:
    """Median over ROUNDS of µs per iteration."""
    results = []
    for _ in range(ROUNDS):
        started = time.perf_counter_ns()
        loop(count)
        results.append((time.perf_counter_ns() - started) / count / 1000.0)
    return float(statistics.median(results))


def main() -> int:
    key = ECKey.generate_key("P-256", parameters={"kid": "bench", "use": "sig"})
    jwks = {"keys": [{**key.as_dict(private=False), "alg": "ES256", "use": "sig"}]}
    token = issue_access_token(
        key,
        issuer=ISSUER,
        client_id="app-1",
        end_user_id="user-1",
        upstream_user_id=42,
        scope="debtor.info.read company.info.read employee.info.read",
        debtors=DEBTORS,
        family_id="family-1",
        consent_id="consent-1",
        now=datetime.now(UTC),
    )
    raw = ("Bearer " + token).encode("latin-1")  # what arrives; decoded per request
    now = time.time()
    revoked = frozenset(f"family-r{index}" for index in range(1000))

    def baseline(count: int) -> None:
        for _ in range(count):
            raw.decode("latin-1")

    verifier = VerifiedTokens(jwks, ISSUER)
    verify_signature = verifier._verify_signature  # the uncached path of the same class

    def every_time(count: int) -> None:
        for _ in range(count):
            claims = verify_signature(raw.decode("latin-1")[7:])
            if claims.family_id in revoked or claims.client_id != "app-1":
                raise AssertionError

    tokens = BearerTokens(jwks, ISSUER)

    def cached(count: int) -> None:
        bearer_of = tokens.bearer
        for _ in range(count):
            bearer = bearer_of(raw.decode("latin-1"), now)
            if bearer.family_id in revoked or bearer.client_id != "app-1":
                raise AssertionError

    opaque = secrets.token_urlsafe(32)
    raw_opaque = ("Bearer " + opaque).encode("latin-1")
    table = {hashlib.sha256(opaque.encode()).hexdigest(): object()}
    sha256 = hashlib.sha256

    def opaque_lookup(count: int) -> None:
        for _ in range(count):
            value = raw_opaque.decode("latin-1")
            if table.get(sha256(value[7:].encode()).hexdigest()) is None:
                raise AssertionError

    base = _best_us(baseline, 200_000)
    figures = {
        "(a) ES256 JWT, signature verified every request": _best_us(every_time, 1_000) - base,
        "(b) ES256 JWT, verified-claims cache (chosen)": _best_us(cached, 200_000) - base,
        "(c) opaque token, SHA-256 + dict lookup": _best_us(opaque_lookup, 200_000) - base,
    }
    print(
        f"Identifying the end user per request ({len(token)}-byte JWT), median of {ROUNDS} "
        f"runs, making the header string ({base:.3f} µs) subtracted:"
    )
    for label, micros in figures.items():
        print(f"  {label:<50} {micros:9.3f} µs/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())

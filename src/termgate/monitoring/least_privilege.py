"""Least privilege (clause 3.3 e): scopes granted against scopes used, unused keys and secrets.

Per application: the scopes its live grants hold (the token families end users consented to),
against the scopes its requests used over the last 30 and 90 days. A scope granted and not used
in 90 days is more than the minimum; the narrower set to ask for is the set used. A key that
carried no request in 90 days, and a client secret no grant was made with, are reported too
(`info`: nothing to cure, something to remove).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from termgate.core.scopes import granted_scopes
from termgate.monitoring.findings import FindingDraft
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.window import Party, Window

NAME = "least_privilege"
# Scopes of the sign-in itself, not of the API: never "more data than the minimum".
IDENTITY_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


@dataclass(frozen=True)
class ScopeUse:
    party: Party
    granted: frozenset[str]
    used_30: frozenset[str]
    used_90: frozenset[str]
    age_days: float  # since the application's first grant or request
    requests_90: int
    idle_keys: tuple[str, ...] = ()  # prefixes of active keys without a request in 90 days
    idle_secret: bool = False  # a client secret with no grant made in 90 days


def unused(granted: frozenset[str], used: frozenset[str]) -> list[str]:
    """Granted scopes no used scope needed: a used `X.read` is served by a granted `X` too."""
    return sorted(
        scope
        for scope in granted - IDENTITY_SCOPES
        if not granted_scopes(frozenset({scope})) & used
    )


def narrower(granted: frozenset[str], used: frozenset[str]) -> list[str]:
    """The set to ask for instead: the granted scopes that some request needed."""
    return sorted(set(granted - IDENTITY_SCOPES) - set(unused(granted, used)))


def detect(rows: Sequence[ScopeUse], policy: DetectorPolicy, window: Window) -> list[FindingDraft]:
    drafts = []
    for row in rows:
        if row.age_days < policy.value("min_age_days"):
            continue
        party = row.party
        extra = unused(row.granted, row.used_90)
        ask_for = ", ".join(narrower(row.granted, row.used_90)) or "none"
        if row.requests_90 >= policy.value("min_requests") and len(extra) >= policy.at_least(
            "min_unused_scopes"
        ):
            drafts.append(
                FindingDraft(
                    detector=NAME,
                    clause=policy.clause,
                    severity=policy.severity,
                    developer_id=party.developer_id,
                    application_id=party.application_id,
                    key_id=None,
                    subject=f"{NAME}:scopes",
                    summary=(
                        f"{len(extra)} of {len(row.granted)} granted scopes unused in 90 days: "
                        f"{', '.join(extra)}; ask for {ask_for}"
                    ),
                    evidence=window.evidence(
                        granted=sorted(row.granted),
                        used_30_days=sorted(row.used_30),
                        used_90_days=sorted(row.used_90),
                        unused=extra,
                        narrower_set=narrower(row.granted, row.used_90),
                        requests_90_days=row.requests_90,
                    ),
                )
            )
        if row.idle_keys or row.idle_secret:
            idle = [f"key {prefix}…" for prefix in row.idle_keys]
            if row.idle_secret:
                idle.append("the client secret")
            drafts.append(
                FindingDraft(
                    detector=NAME,
                    clause=policy.clause,
                    severity="info",
                    developer_id=party.developer_id,
                    application_id=party.application_id,
                    key_id=None,
                    subject=f"{NAME}:credentials",
                    summary=f"unused for 90 days: {', '.join(idle)}; revoke what is not needed",
                    evidence=window.evidence(
                        idle_keys=list(row.idle_keys), idle_secret=row.idle_secret
                    ),
                )
            )
    return drafts

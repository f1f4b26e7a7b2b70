"""Least privilege (clause 3.3 e): scopes granted against scopes used, unused keys and secrets.

Per application: the scopes its live grants hold (the token families end users consented to),
against the scopes its requests used over the last 30 and 90 days. A scope granted and not used
in 90 days is more than the minimum; the narrower set to ask for is the set used. A key that
carried no request in 90 days, and a client secret no grant was made with, are reported too
(`info`: nothing to cure, something to remove).

When to judge: after four weeks of use every monthly job has run, so three or more scopes never
used are enough. Before that, an application used on a few days already shows what it needs;
it is judged early only when most of what it holds (twice as many scopes as it used, at least
three) went unused since the grant, so an honest application whose monthly report needs one or
two scopes it has not used yet is never reported early.
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
    days_of_use: int = 0  # distinct days with a successful request in the window
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


def _api_scopes(granted: frozenset[str]) -> frozenset[str]:
    return granted - IDENTITY_SCOPES


def too_broad(row: ScopeUse, extra: list[str], policy: DetectorPolicy) -> str | None:
    """Why the grant is broader than the use, or None: after `min_age_days` of use any
    `min_unused_scopes`; earlier (after `early_days_of_use` days with requests) only when the
    unused are `early_unused_share` or more of the API scopes held."""
    if row.requests_90 < policy.value("min_requests"):
        return None
    if len(extra) < policy.at_least("min_unused_scopes"):
        return None
    if row.age_days >= policy.value("min_age_days"):
        return f"in {row.age_days:.0f} days since the grant"
    held = len(_api_scopes(row.granted))
    if (
        row.days_of_use >= policy.value("early_days_of_use")
        and held
        and len(extra) / held >= policy.value("early_unused_share")
    ):
        return f"in {row.days_of_use} days of use since the grant"
    return None


def detect(rows: Sequence[ScopeUse], policy: DetectorPolicy, window: Window) -> list[FindingDraft]:
    drafts = []
    for row in rows:
        party = row.party
        extra = unused(row.granted, row.used_90)
        ask_for = ", ".join(narrower(row.granted, row.used_90)) or "none"
        if since := too_broad(row, extra, policy):
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
                        f"{len(extra)} of {len(_api_scopes(row.granted))} granted API scopes "
                        f"never used {since} (90-day window): {', '.join(extra)}; "
                        f"ask for {ask_for}"
                    ),
                    evidence=window.evidence(
                        granted=sorted(row.granted),
                        used_30_days=sorted(row.used_30),
                        used_90_days=sorted(row.used_90),
                        unused=extra,
                        unused_30_days=unused(row.granted, row.used_30),
                        narrower_set=narrower(row.granted, row.used_90),
                        requests_90_days=row.requests_90,
                        days_of_use=row.days_of_use,
                        days_since_grant=round(row.age_days, 1),
                    ),
                )
            )
        if row.age_days < policy.value("min_age_days"):
            continue
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

"""Probing (clauses 3.3 b, c): refused requests that look like trying doors, not using the API.

Per application (and per source address for requests no key identifies), over the window: the
share of 401/403/404 answers, tenants outside the consent (40303, 40305), refused scopes (40302),
invalid tokens (40101, 40102), paths outside the API (40401), and end users' failed sign-ins in
its authorization requests (credential stuffing). An honest integration sees a few
of these (an expired token, a deleted employee); a prober sees mostly these. Only naming tenants
outside the consent in volume (cross-tenant probing) or scanning paths outside the API in volume
is critical: that is the clause 4.2 plausible risk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from termgate.monitoring.findings import FindingDraft
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.window import Party, Window, share

NAME = "probing"


@dataclass(frozen=True)
class RefusalCounts:
    party: Party
    source: str  # "application" or "ip:<address>"
    requests: int
    refused: int  # answers 401, 403 or 404
    foreign_tenant: int  # 40303, 40305: a tenant the consent does not cover
    refused_scope: int  # 40302
    invalid_token: int  # 40101, 40102
    outside_api: int  # 40401: no such operation
    failed_sign_ins: int = 0  # end users' failed sign-ins in its authorization requests
    sample_request_ids: list[str] = field(default_factory=list)


def _signals(row: RefusalCounts, policy: DetectorPolicy) -> list[str]:
    signals = []
    if row.refused >= policy.at_least("min_refused") and share(
        row.refused, row.requests
    ) >= policy.value("refused_share"):
        signals.append(f"{row.refused} of {row.requests} requests refused (401/403/404)")
    if row.foreign_tenant >= policy.at_least("min_foreign_tenant") and share(
        row.foreign_tenant, row.requests
    ) >= policy.value("foreign_tenant_share"):
        signals.append(f"{row.foreign_tenant} requests named tenants outside the consent")
    if row.refused_scope >= policy.at_least("min_refused_scope") and share(
        row.refused_scope, row.requests
    ) >= policy.value("refused_scope_share"):
        signals.append(f"{row.refused_scope} requests asked for scopes not granted")
    if row.outside_api >= policy.at_least("min_outside_api") and share(
        row.outside_api, row.requests
    ) >= policy.value("refused_share"):
        signals.append(f"{row.outside_api} requests for paths outside the API")
    if row.failed_sign_ins >= policy.at_least("min_failed_sign_ins"):
        signals.append(
            f"{row.failed_sign_ins} failed end-user sign-ins through its authorization requests"
        )
    return signals


def _is_critical(row: RefusalCounts, policy: DetectorPolicy) -> bool:
    foreign = row.foreign_tenant >= policy.critical("critical_foreign_tenant") and share(
        row.foreign_tenant, row.requests
    ) >= policy.critical("critical_share")
    scanning = row.outside_api >= policy.critical("critical_outside_api") and share(
        row.outside_api, row.requests
    ) >= policy.critical("critical_share")
    return foreign or scanning


def detect(
    rows: Sequence[RefusalCounts], policy: DetectorPolicy, window: Window
) -> list[FindingDraft]:
    drafts = []
    for row in rows:
        if row.requests < policy.value("min_requests") and not row.failed_sign_ins:
            continue
        signals = _signals(row, policy)
        if not signals:
            continue
        severity = "critical" if _is_critical(row, policy) else policy.severity
        drafts.append(
            FindingDraft(
                detector=NAME,
                clause=policy.clause,
                severity=severity,
                developer_id=row.party.developer_id,
                application_id=row.party.application_id,
                key_id=row.party.key_id,
                subject=f"{NAME}:{row.source}",
                summary="; ".join(signals),
                evidence=window.evidence(
                    requests=row.requests,
                    refused=row.refused,
                    refused_share=round(share(row.refused, row.requests), 3),
                    foreign_tenant=row.foreign_tenant,
                    refused_scope=row.refused_scope,
                    invalid_token=row.invalid_token,
                    outside_api=row.outside_api,
                    failed_sign_ins=row.failed_sign_ins,
                    sample_request_ids=row.sample_request_ids[:10],
                ),
            )
        )
    return drafts

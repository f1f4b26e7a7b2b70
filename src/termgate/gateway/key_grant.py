"""What the gateway knows of one subscription key (one per key: kept small, values shared)."""

from __future__ import annotations

from dataclasses import dataclass

from termgate.db.models import Environment, Status
from termgate.gateway.traffic.plan_limits import UNLIMITED, PlanLimits


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What a subscription key stands for, with the status of every party above it."""

    key_id: str
    subscription_id: str
    application_id: str
    developer_id: str
    plan_id: str
    product_slug: str
    environment: Environment
    key_status: Status
    subscription_status: Status
    application_status: Status
    developer_status: Status
    # None: every operation of the API; otherwise the operation ids the product includes.
    operations: frozenset[str] | None
    max_page_size: int
    # Clause 9: from this moment (epoch seconds) the key's traffic is refused because its
    # developer has not accepted the current terms; None while nothing is due.
    terms_deadline: float | None = None
    # The plan's limits (clauses 3.3 e-h, 4.4), one object per plan; the limiter's counter ids
    # (per application and plan, per developer and plan: clause 3.3 g); the end users whose
    # live consent to the application is beyond the plan's cap on end users or debtors served
    # (clause 4.4). End users, not consents: a token family taken over by a later consent keeps
    # unexpired tokens that name the consent it was authorised under.
    limits: PlanLimits = UNLIMITED
    app_counter: str = ""
    developer_counter: str = ""
    over_cap: frozenset[str] = frozenset()

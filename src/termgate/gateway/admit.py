"""Step 2, admit: no maintenance window is open (clause 8), nothing between the key and its
developer is suspended (clause 3.1), the developer has accepted the current terms where their
deadline has passed (clause 9), and the operation is not in a brown-out or retired (4.6)."""

from __future__ import annotations

from termgate.db.models import Status
from termgate.gateway.exchange import Exchange, refuse
from termgate.governance.availability import AvailabilityPolicy, OperationPolicy
from termgate.problems import (
    BROWNOUT,
    MAINTENANCE,
    OPERATION_RETIRED,
    SUSPENDED,
    TERMS_NOT_ACCEPTED,
    ProblemResponse,
)

ACTIVE = Status.ACTIVE


def _maintenance(exchange: Exchange, policy: AvailabilityPolicy) -> ProblemResponse:
    problem = refuse(
        exchange,
        MAINTENANCE,
        f"Planned maintenance until {policy.maintenance_until}; the calendar is at "
        "/maintenance.ics and the state at /status.",
    )
    wait = policy.maintenance_end - exchange.started_at
    problem.headers.append(("retry-after", str(max(1, int(wait + 0.999)))))
    return problem


def _lifecycle(exchange: Exchange, operation: OperationPolicy) -> ProblemResponse | None:
    now = exchange.started_at
    if now >= operation.retire_at:
        problem = refuse(
            exchange,
            OPERATION_RETIRED,
            f"{operation.operation_id} is retired"
            + (f"; see {operation.migration_url}" if operation.migration_url else "")
            + ".",
        )
    else:
        for start, end in operation.brownouts:
            if start <= now < end:
                break
        else:
            return None
        problem = refuse(
            exchange,
            BROWNOUT,
            f"{operation.operation_id} is deprecated and answers 410 during this brown-out"
            + (f"; it is withdrawn at {operation.sunset}" if operation.sunset else "")
            + (f"; see {operation.migration_url}" if operation.migration_url else "")
            + ".",
        )
    problem.headers.extend(operation.headers)
    return problem


def admit(exchange: Exchange, policy: AvailabilityPolicy) -> ProblemResponse | None:
    if policy.maintenance_start <= exchange.started_at < policy.maintenance_end:
        return _maintenance(exchange, policy)
    grant = exchange.grant
    assert grant is not None
    deadline = grant.terms_deadline
    if deadline is not None and exchange.started_at >= deadline:
        return refuse(
            exchange,
            TERMS_NOT_ACCEPTED,
            "Your developer account has not accepted the current API Terms of Use and their "
            "re-acceptance deadline has passed; accept them in the developer portal.",
        )
    if (
        grant.key_status is ACTIVE
        and grant.subscription_status is ACTIVE
        and grant.application_status is ACTIVE
        and grant.developer_status is ACTIVE
    ):
        operations = policy.operations
        if operations and exchange.operation is not None:
            lifecycle = operations.get(exchange.operation.operation_id)
            if lifecycle is not None:
                return _lifecycle(exchange, lifecycle)
        return None
    for party, status in (
        ("developer account", grant.developer_status),
        ("application", grant.application_status),
        ("subscription", grant.subscription_status),
        ("subscription key", grant.key_status),
    ):
        if status is not ACTIVE:
            return refuse(
                exchange, SUSPENDED, f"The {party} is {status.value}; see your portal inbox."
            )
    return None

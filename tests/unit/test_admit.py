"""Step 2, admit, decided in memory: clause 8 (maintenance), 3.1 (suspension), 9 (terms), 4.6."""

from __future__ import annotations

import pytest

from termgate.db.models import Status
from termgate.gateway.admit import admit
from termgate.governance.availability import AvailabilityPolicy, OperationPolicy
from termgate.problems import (
    BROWNOUT,
    MAINTENANCE,
    OPERATION_RETIRED,
    SUSPENDED,
    TERMS_NOT_ACCEPTED,
)
from tests.unit.builders import NOW, grant, operation, ready, refused_with

WINDOW = AvailabilityPolicy(
    maintenance_start=NOW - 10, maintenance_end=NOW + 100.2, maintenance_until="12:00 UTC"
)
HEADERS = (("deprecation", "@1700000000"), ("sunset", "Thu, 01 Jan 2026 00:00:00 GMT"))


def lifecycle(**changes: object) -> AvailabilityPolicy:
    fields: dict[str, object] = {"operation_id": "listEmployees", "headers": HEADERS}
    fields.update(changes)
    return AvailabilityPolicy(operations={"listEmployees": OperationPolicy(**fields)})  # type: ignore[arg-type]


def test_clause_8_request_inside_the_window_is_refused_with_retry_after() -> None:
    ex = ready()
    response = admit(ex, WINDOW)
    problem = refused_with(response, MAINTENANCE, ex)
    assert problem["detail"] == (
        "Planned maintenance until 12:00 UTC; the calendar is at /maintenance.ics and the "
        "state at /status."
    )
    assert response is not None
    assert response.headers == [("retry-after", "101")]


def test_clause_8_window_start_is_inside_and_end_is_outside() -> None:
    start = AvailabilityPolicy(maintenance_start=NOW, maintenance_end=NOW + 5)
    assert refused_with(admit(ready(), start), MAINTENANCE)
    ended = AvailabilityPolicy(maintenance_start=NOW - 5, maintenance_end=NOW)
    assert admit(ready(), ended) is None
    future = AvailabilityPolicy(maintenance_start=NOW + 1, maintenance_end=NOW + 5)
    assert admit(ready(), future) is None


@pytest.mark.parametrize(
    ("remaining", "retry_after"), [(0.0005, "1"), (0.5, "1"), (1.0, "1"), (1.01, "2"), (2.0, "2")]
)
def test_clause_8_retry_after_rounds_up_to_whole_seconds(
    remaining: float, retry_after: str
) -> None:
    policy = AvailabilityPolicy(maintenance_start=NOW - 1, maintenance_end=NOW + remaining)
    response = admit(ready(), policy)
    assert response is not None
    assert response.headers == [("retry-after", retry_after)]


def test_clause_9_traffic_after_the_terms_deadline_is_refused() -> None:
    ex = ready(grant(terms_deadline=NOW))
    problem = refused_with(admit(ex, AvailabilityPolicy()), TERMS_NOT_ACCEPTED, ex)
    assert problem["detail"] == (
        "Your developer account has not accepted the current API Terms of Use and their "
        "re-acceptance deadline has passed; accept them in the developer portal."
    )


def test_clause_9_traffic_before_the_terms_deadline_passes() -> None:
    assert admit(ready(grant(terms_deadline=NOW + 0.001)), AvailabilityPolicy()) is None


def test_clause_8_maintenance_is_answered_before_the_terms_deadline() -> None:
    refused_with(admit(ready(grant(terms_deadline=NOW - 1)), WINDOW), MAINTENANCE)


@pytest.mark.parametrize(
    ("field", "party"),
    [
        ("developer_status", "developer account"),
        ("application_status", "application"),
        ("subscription_status", "subscription"),
        ("key_status", "subscription key"),
    ],
)
@pytest.mark.parametrize("status", [Status.SUSPENDED, Status.REVOKED])
def test_clause_3_1_each_suspended_party_refuses_the_key(
    field: str, party: str, status: Status
) -> None:
    ex = ready(grant(**{field: status}))
    problem = refused_with(admit(ex, AvailabilityPolicy()), SUSPENDED, ex)
    assert problem["detail"] == f"The {party} is {status.value}; see your portal inbox."


def test_clause_3_1_the_highest_suspended_party_is_named() -> None:
    everyone = grant(
        key_status=Status.REVOKED,
        subscription_status=Status.SUSPENDED,
        application_status=Status.SUSPENDED,
        developer_status=Status.SUSPENDED,
    )
    problem = refused_with(admit(ready(everyone), AvailabilityPolicy()), SUSPENDED)
    assert problem["detail"] == "The developer account is suspended; see your portal inbox."
    below = grant(key_status=Status.REVOKED, subscription_status=Status.SUSPENDED)
    problem = refused_with(admit(ready(below), AvailabilityPolicy()), SUSPENDED)
    assert problem["detail"] == "The subscription is suspended; see your portal inbox."


def test_clause_3_1_suspension_wins_over_a_retired_operation() -> None:
    ex = ready(grant(developer_status=Status.SUSPENDED))
    refused_with(admit(ex, lifecycle(retire_at=NOW - 1)), SUSPENDED, ex)


def test_clause_4_6_retired_operation_is_gone_with_its_headers() -> None:
    ex = ready()
    response = admit(ex, lifecycle(retire_at=NOW, migration_url="https://docs/x"))
    problem = refused_with(response, OPERATION_RETIRED, ex)
    assert problem["detail"] == "listEmployees is retired; see https://docs/x."
    assert response is not None
    assert response.headers == list(HEADERS)


def test_clause_4_6_retired_operation_without_guide() -> None:
    problem = refused_with(admit(ready(), lifecycle(retire_at=NOW - 5)), OPERATION_RETIRED)
    assert problem["detail"] == "listEmployees is retired."


def test_clause_4_6_operation_before_retirement_passes() -> None:
    assert admit(ready(), lifecycle(retire_at=NOW + 0.5)) is None


def test_clause_4_6_brownout_answers_410_inside_and_not_at_its_end() -> None:
    windows = ((NOW - 100, NOW - 50), (NOW, NOW + 10))
    ex = ready()
    response = admit(ex, lifecycle(brownouts=windows, sunset="2027-01-01"))
    problem = refused_with(response, BROWNOUT, ex)
    assert problem["detail"] == (
        "listEmployees is deprecated and answers 410 during this brown-out; it is withdrawn at "
        "2027-01-01."
    )
    assert response is not None
    assert response.headers == list(HEADERS)
    assert admit(ready(), lifecycle(brownouts=((NOW - 10, NOW),))) is None
    assert admit(ready(), lifecycle(brownouts=((NOW + 1, NOW + 10),))) is None


def test_clause_4_6_brownout_detail_names_the_migration_guide() -> None:
    policy = lifecycle(brownouts=((NOW - 1, NOW + 1),), migration_url="https://docs/y")
    problem = refused_with(admit(ready(), policy), BROWNOUT)
    assert problem["detail"] == (
        "listEmployees is deprecated and answers 410 during this brown-out; see https://docs/y."
    )


def test_clause_4_6_other_operations_are_not_affected() -> None:
    ex = ready(op=operation(operation_id="getEmployee"))
    assert admit(ex, lifecycle(retire_at=NOW - 1)) is None
    no_operation = ready()
    no_operation.operation = None
    assert admit(no_operation, lifecycle(retire_at=NOW - 1)) is None

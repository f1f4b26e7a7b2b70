"""Circumvention (3.3 g) judged on behaviour: applications of one account together over one
application's limit, keys regenerated right after a throttling; and least privilege (3.3 e)
judged early only when most of a grant goes unused. Default policy of terms/policy.toml."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from termgate.monitoring import circumvention, least_privilege
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.window import Party, Window

POLICIES = load_detector_policies(Path(__file__).parents[2] / "terms")
END = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
WEEK = Window(END - timedelta(days=7), END)
APP = Party("d" * 32, "a" * 32)


def app(name: str, **values: object) -> circumvention.ApplicationActivity:
    base: dict[str, object] = {
        "application_id": name,
        "requests": 500,
        "throttled": 0,
        "first_throttled_at": None,
        "first_seen_at": END - timedelta(days=30),
        "keys_created": 0,
        "end_users": 1,
        "rate_limit_per_minute": 600,
    }
    base.update(values)
    return circumvention.ApplicationActivity(**base)  # type: ignore[arg-type]


def account(minutes: list[dict[str, int]], **values: object) -> circumvention.DeveloperActivity:
    apps = [app(name, **values) for name in sorted({a for m in minutes for a in m} | {"a1"})]
    return circumvention.DeveloperActivity("dev", apps, minutes)


def test_clause_3_3_g_applications_together_over_one_limit_act_as_one() -> None:
    policy = POLICIES["circumvention"]
    spread = account([{"a1": 300, "a2": 310, "a3": 290}])
    [found] = circumvention.detect([spread], policy, WEEK)
    assert "together sent 900 requests" in found.summary
    assert found.developer_id == "dev"


def test_clause_3_3_g_two_applications_each_within_its_limit_are_not_circumvention() -> None:
    policy = POLICIES["circumvention"]
    # Busy in the same minute, but together within one application's limit.
    assert circumvention.detect([account([{"a1": 300, "a2": 250}])], policy, WEEK) == []
    # One application at its own limit beside a few requests of another: not spreading.
    assert circumvention.detect([account([{"a1": 600, "a2": 30}])], policy, WEEK) == []
    # A plan without a rate limit has no limit to get round.
    unlimited = account([{"a1": 900, "a2": 900}], rate_limit_per_minute=None)
    assert circumvention.detect([unlimited], policy, WEEK) == []


def test_clause_3_3_g_keys_regenerated_right_after_a_throttling_reset_counters() -> None:
    policy = POLICIES["circumvention"]
    throttled = END - timedelta(hours=5)
    minute = int(throttled.timestamp() // 60)
    keys = (throttled + timedelta(seconds=20), throttled + timedelta(minutes=3))
    churn = circumvention.DeveloperActivity(
        "dev", [app("a1", keys_created=2, keys_made_at=keys)], [], frozenset({minute})
    )
    [found] = circumvention.detect([churn], policy, WEEK)
    assert "2 keys regenerated within 60 minutes after a throttling" in found.summary
    # The same two regenerations with no throttling around them: an ordinary rotation.
    rotation = replace(churn, throttled_minutes=frozenset({minute - 24 * 60}))
    assert circumvention.detect([rotation], policy, WEEK) == []


def scopes(granted: int, used: int, **values: object) -> least_privilege.ScopeUse:
    held = [f"scope{n}.read" for n in range(granted)]
    base: dict[str, object] = {
        "party": APP,
        "granted": frozenset({"openid", *held}),
        "used_30": frozenset(held[:used]),
        "used_90": frozenset(held[:used]),
        "age_days": 6.0,
        "requests_90": 80,
        "days_of_use": 5,
    }
    base.update(values)
    return least_privilege.ScopeUse(**base)  # type: ignore[arg-type]


def test_clause_3_3_e_most_of_a_grant_unused_is_reported_after_a_few_days_of_use() -> None:
    policy = POLICIES["least_privilege"]
    [found] = least_privilege.detect([scopes(8, 2)], policy, WEEK)
    assert "6 of 8 granted API scopes never used in 5 days of use" in found.summary
    assert found.evidence["narrower_set"] == ["scope0.read", "scope1.read"]
    assert found.evidence["days_of_use"] == 5
    # Too few days with requests yet, or too few requests: not judged.
    assert least_privilege.detect([scopes(8, 2, days_of_use=2)], policy, WEEK) == []
    assert least_privilege.detect([scopes(8, 2, requests_90=3)], policy, WEEK) == []


def test_clause_3_3_e_scopes_a_monthly_job_uses_are_not_reported_before_a_month() -> None:
    policy = POLICIES["least_privilege"]
    # Half its scopes wait for the monthly report: not "most of the grant", not reported early.
    assert least_privilege.detect([scopes(6, 3)], policy, WEEK) == []
    assert least_privilege.detect([scopes(4, 2)], policy, WEEK) == []
    # After four weeks of use the monthly job has had its chance: three unused are reported.
    [late] = least_privilege.detect([scopes(6, 3, age_days=29)], policy, WEEK)
    assert "3 of 6 granted API scopes never used in 29 days since the grant" in late.summary

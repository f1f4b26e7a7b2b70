"""Issue 12 item 3: each detector, a pure function of aggregated rows, fires on the behaviour its
clause forbids and stays quiet on honest use, with the default policy of terms/policy.toml."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from termgate.monitoring import circumvention, harvest, least_privilege, probing, stability
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.window import Party, Window
from termgate.preflight import StartupError, check_detector_policy
from termgate.registry.clauses import PolicyError
from termgate.settings import load_settings

TERMS = Path(__file__).parents[2] / "terms"
POLICIES = load_detector_policies(TERMS)
END = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
HOUR = Window(END - timedelta(hours=1), END)
DAY = Window(END - timedelta(days=1), END)
APP = Party("d" * 32, "a" * 32)


def refusals(**counts: int) -> probing.RefusalCounts:
    base = {
        "requests": 200,
        "refused": 0,
        "foreign_tenant": 0,
        "refused_scope": 0,
        "invalid_token": 0,
        "outside_api": 0,
    }
    base.update(counts)
    return probing.RefusalCounts(party=APP, source="application", **base)


def test_clause_3_3_c_probing_fires_on_refusal_storms_and_not_on_an_expired_token() -> None:
    policy = POLICIES["probing"]
    honest = refusals(refused=6, invalid_token=3)  # a token expired, a few deleted employees
    assert probing.detect([honest], policy, HOUR) == []
    quiet = refusals(requests=9, refused=9)  # too few requests to say anything
    assert probing.detect([quiet], policy, HOUR) == []
    prober = refusals(refused=150, foreign_tenant=120)
    [finding] = probing.detect([prober], policy, HOUR)
    assert (finding.clause, finding.severity) == ("3.3 c", "major")
    assert "outside the consent" in finding.summary
    assert finding.evidence["window_start"] == HOUR.start.isoformat()
    scope_probe = refusals(refused=60, refused_scope=60)
    assert "scopes not granted" in probing.detect([scope_probe], policy, HOUR)[0].summary


def test_clause_3_3_c_failed_end_user_sign_ins_through_an_application_are_probing() -> None:
    policy = POLICIES["probing"]
    typos = replace(refusals(requests=0), failed_sign_ins=3)  # people mistype passwords
    assert probing.detect([typos], policy, HOUR) == []
    stuffer = replace(refusals(requests=0), failed_sign_ins=140)
    [finding] = probing.detect([stuffer], policy, HOUR)
    assert "140 failed end-user sign-ins" in finding.summary
    assert finding.severity == "major"


def test_clause_4_2_only_cross_tenant_probing_in_volume_is_critical() -> None:
    policy = POLICIES["probing"]
    invalid_token_storm = refusals(requests=5000, refused=5000, invalid_token=5000)
    assert probing.detect([invalid_token_storm], policy, HOUR)[0].severity == "major"
    cross_tenant = refusals(requests=400, refused=390, foreign_tenant=380)
    assert probing.detect([cross_tenant], policy, HOUR)[0].severity == "critical"


def minutes(count: int, concurrency: float, start: int = 1000, step: int = 1) -> list:
    return [stability.MinuteLoad(start + i * step, 100, concurrency, 10_000) for i in range(count)]


def test_clause_3_3_f_stability_needs_sustained_load() -> None:
    policy = POLICIES["stability"]
    burst = stability.ApplicationLoad(APP, minutes(5, 40.0))
    assert stability.detect([burst], policy, HOUR) == []
    scattered = stability.ApplicationLoad(APP, minutes(30, 40.0, step=2))  # never consecutive
    assert stability.detect([scattered], policy, HOUR) == []
    sustained = stability.ApplicationLoad(APP, minutes(20, 40.0))
    [finding] = stability.detect([sustained], policy, HOUR)
    assert (finding.clause, finding.severity) == ("3.3 f", "major")
    assert finding.evidence["longest_concurrency_run_minutes"] == 20
    hammer = stability.ApplicationLoad(APP, minutes(45, 200.0))
    assert stability.detect([hammer], policy, HOUR)[0].severity == "critical"


def volume(**values: object) -> harvest.ReadVolume:
    base: dict[str, object] = {
        "party": APP,
        "employee_reads": 40,
        "distinct_employees": 40,
        "distinct_companies": 2,
        "end_users": 1,
        "expected_end_users": 5,
        "new_employees": 0,
        "known_employees": 40,
        "age_days": 20.0,
    }
    base.update(values)
    return harvest.ReadVolume(**base)  # type: ignore[arg-type]


def test_clause_3_3_d_harvest_quiet_on_nightly_sync_and_a_large_accountancy() -> None:
    policy = POLICIES["harvest"]
    nightly_sync = volume()
    first_day = volume(new_employees=40, known_employees=0, age_days=0.5)
    accountancy = volume(
        employee_reads=1500,
        distinct_employees=1200,
        distinct_companies=80,
        end_users=40,
        new_employees=150,
        known_employees=2900,
    )
    monthly_report = volume(employee_reads=45, distinct_employees=45, new_employees=0, end_users=1)
    drafts = harvest.detect([nightly_sync, first_day, accountancy, monthly_report], policy, DAY)
    assert drafts == []


def test_clause_3_3_d_harvest_fires_on_breadth_rereads_and_walks() -> None:
    policy = POLICIES["harvest"]
    breadth = volume(employee_reads=5000, distinct_employees=5000, distinct_companies=120)
    [found] = harvest.detect([breadth], policy, DAY)
    assert (found.clause, found.severity, found.subject) == ("3.3 d", "major", "harvest:employees")
    rereads = volume(employee_reads=50 * 24, distinct_employees=50)
    assert "re-read" in harvest.detect([rereads], policy, DAY)[0].summary
    walk = volume(
        employee_reads=300,
        distinct_employees=300,
        new_employees=290,
        known_employees=2000,
        end_users=2,
    )
    assert "walk" in harvest.detect([walk], policy, DAY)[0].summary
    categories = volume(
        categories_read=frozenset({"salary"}), categories_declared=frozenset({"leave"})
    )
    assert harvest.detect([categories], policy, DAY)[0].severity == "minor"
    huge = volume(employee_reads=30000, distinct_employees=30000, distinct_companies=900)
    assert harvest.detect([huge], policy, DAY)[0].severity == "critical"


def activity(app: str, **values: object) -> circumvention.ApplicationActivity:
    base: dict[str, object] = {
        "application_id": app,
        "requests": 500,
        "throttled": 0,
        "first_throttled_at": None,
        "first_seen_at": END - timedelta(days=30),
        "keys_created": 0,
        "end_users": 1,
    }
    base.update(values)
    return circumvention.ApplicationActivity(**base)  # type: ignore[arg-type]


def test_clause_3_3_g_circumvention_fires_on_key_churn_new_apps_and_multipliers() -> None:
    policy = POLICIES["circumvention"]
    honest = circumvention.DeveloperActivity(
        "h", [activity("h1"), activity("h2")], most_applications_per_end_user=1
    )
    assert circumvention.detect([honest], policy, DAY) == []
    churn = circumvention.DeveloperActivity("c", [activity("c1", keys_created=4)])
    assert "4 keys" in circumvention.detect([churn], policy, DAY)[0].summary
    throttled_at = END - timedelta(hours=3)
    spill = circumvention.DeveloperActivity(
        "s",
        [
            activity("s1", throttled=200, first_throttled_at=throttled_at),
            activity("s2", first_seen_at=throttled_at + timedelta(minutes=5)),
        ],
    )
    [found] = circumvention.detect([spill], policy, DAY)
    assert "started sending after" in found.summary
    assert found.developer_id == "s"
    multiplier = circumvention.DeveloperActivity(
        "m", [activity(f"m{i}") for i in range(3)], most_applications_per_end_user=3
    )
    assert "3 applications" in circumvention.detect([multiplier], policy, DAY)[0].summary


def test_clause_3_3_h_accounts_linked_at_an_address_are_both_reported() -> None:
    policy = POLICIES["circumvention"]
    pair = [
        circumvention.DeveloperActivity(
            "x", [activity("x1", throttled=5)], linked_accounts=frozenset({"y"})
        ),
        circumvention.DeveloperActivity("y", [activity("y1")], linked_accounts=frozenset({"x"})),
    ]
    found = circumvention.detect(pair, policy, DAY)
    assert {f.developer_id for f in found} == {"x", "y"}
    assert "same end users as 1 other account(s), one of them throttled" in found[0].summary
    assert found[0].evidence["other_accounts_at_same_addresses"] == ["y"]


def test_clause_3_3_e_least_privilege_reports_the_narrower_set() -> None:
    policy = POLICIES["least_privilege"]
    row = least_privilege.ScopeUse(
        party=APP,
        granted=frozenset(
            {
                "openid",
                "employee.info",
                "company.payrollsettings",
                "payslip.read",
                "debtor.info.read",
            }
        ),
        used_30=frozenset({"employee.info.read"}),
        used_90=frozenset({"employee.info.read"}),
        age_days=45,
        requests_90=500,
        idle_keys=("ab12cd",),
    )
    scopes, credentials = least_privilege.detect([row], policy, DAY)
    assert scopes.evidence["unused"] == [
        "company.payrollsettings",
        "debtor.info.read",
        "payslip.read",
    ]
    assert scopes.evidence["narrower_set"] == ["employee.info"]
    assert (scopes.clause, scopes.severity) == ("3.3 e", "minor")
    assert credentials.severity == "info"
    assert "ab12cd" in credentials.summary
    fitting = replace(
        row,
        used_90=frozenset(
            {"employee.info", "company.payrollsettings.read", "payslip.read", "debtor.info.read"}
        ),
        idle_keys=(),
    )
    assert least_privilege.detect([fitting], policy, DAY) == []
    young = replace(row, age_days=3)
    assert least_privilege.detect([young], policy, DAY) == []


def test_clause_4_1_a_malformed_detector_policy_is_refused_naming_the_table(tmp_path: Path) -> None:
    text = (TERMS / "policy.toml").read_text()
    (tmp_path / "terms.md").write_text("terms")
    (tmp_path / "policy.toml").write_text(text.replace('\nmode = "enforce"', '\nmode = "loud"', 1))
    with pytest.raises(PolicyError, match=r"\[detector.harvest\].*mode 'loud'"):
        load_detector_policies(tmp_path)
    assert POLICIES["probing"].value("min_requests") == 10
    with pytest.raises(PolicyError, match="lacks the threshold 'nope'"):
        POLICIES["probing"].value("nope")


def test_clause_4_1_serve_refuses_to_start_on_a_malformed_detector_policy(tmp_path: Path) -> None:
    text = (TERMS / "policy.toml").read_text()
    (tmp_path / "terms.md").write_text("terms")
    (tmp_path / "policy.toml").write_text(
        text.replace("\nwindow_minutes = 60\n", "\nwindow_minutes = 0\n", 1)
    )
    with pytest.raises(
        StartupError, match=r"^TERMGATE_TERMS_DIR: .*\[detector\.\w+\]: window_minutes"
    ):
        check_detector_policy(load_settings(terms_dir=tmp_path))
    check_detector_policy(load_settings(terms_dir=tmp_path, detect_interval_seconds=0))
    check_detector_policy(load_settings(terms_dir=TERMS))

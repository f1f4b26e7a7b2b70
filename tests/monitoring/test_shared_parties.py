"""Circumvention's shared end users and addresses (clauses 3.3 g, h), judged on numbers: one end
user served by several applications of an account, accounts linked at an address by a common end
user while one of them is throttled, proxies ignored."""

from __future__ import annotations

from termgate.monitoring.shared_parties import ActiveApplication, PartyNumbers, shared_parties

PROXY_ABOVE = 3  # terms/policy.toml: max_accounts_per_address


def parties(held: dict[str, list[str | None]]) -> PartyNumbers:
    numbers = PartyNumbers()
    for application, values in held.items():
        numbers.add(application, values)
        numbers.add(application, values)  # the next day: the same values again
    return numbers


def app(name: str, *, throttled: int = 0, counts: bool = True) -> ActiveApplication:
    return ActiveApplication(name, f"dev-{name[0]}", throttled, counts)


def test_clause_3_3_g_end_users_are_counted_once_per_application_and_across_applications() -> None:
    end_users = parties({"a1": ["u1", "u2", None], "a2": ["u2"], "a3": ["u2", "u3"], "b1": []})
    apps = [app("a1"), app("a2"), app("a3", counts=False), app("b1")]
    shared = shared_parties(end_users, parties({}), apps, PROXY_ABOVE)
    assert shared.end_users == {"a1": 2, "a2": 1, "a3": 2, "b1": 0}
    # a3 has fewer than min_requests: u2 is served by two counting applications, not three
    assert shared.most_applications_per_end_user == {"dev-a": 2}
    assert end_users.values_of("a3") == {"u2", "u3"}


def test_clause_3_3_h_an_address_links_accounts_only_by_a_common_end_user_and_throttling() -> None:
    addresses = parties({"x1": ["192.0.2.7"], "y1": ["192.0.2.7"], "z1": ["192.0.2.7"]})
    strangers = parties({"x1": ["u-x"], "y1": ["u-y"], "z1": ["u-z"]})
    apps = [app("x1", throttled=5), app("y1"), app("z1")]
    assert shared_parties(strangers, addresses, apps, PROXY_ABOVE).linked_accounts == {}
    common = parties({"x1": ["u-x"], "y1": ["u-y", "u-x"], "z1": ["u-z"]})
    linked = shared_parties(common, addresses, apps, PROXY_ABOVE).linked_accounts
    assert linked == {"dev-x": {"dev-y"}, "dev-y": {"dev-x"}}
    # related accounts within their limits get round nothing
    calm = [app("x1"), app("y1"), app("z1")]
    assert shared_parties(common, addresses, calm, PROXY_ABOVE).linked_accounts == {}
    # an application below min_requests links nothing
    quiet = [app("x1", throttled=5), app("y1", counts=False), app("z1")]
    assert shared_parties(common, addresses, quiet, PROXY_ABOVE).linked_accounts == {}


def test_clause_3_3_h_an_address_of_more_accounts_than_the_policy_allows_is_a_proxy() -> None:
    names = ["a1", "b1", "c1", "d1"]
    addresses = parties({name: ["203.0.113.9"] for name in names})
    end_users = parties({name: ["u-same"] for name in names})
    apps = [app(name, throttled=1) for name in names]
    assert shared_parties(end_users, addresses, apps, PROXY_ABOVE).linked_accounts == {}
    assert shared_parties(end_users, addresses, apps[:3], PROXY_ABOVE).linked_accounts == {
        "dev-a": {"dev-b", "dev-c"},
        "dev-b": {"dev-a", "dev-c"},
        "dev-c": {"dev-a", "dev-b"},
    }

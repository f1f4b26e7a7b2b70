"""Clause 4.1, for detection: which of a path's tenant ids the usage event records as debtor,
company and employee, which scope it names, and the client address it records."""

from __future__ import annotations

from termgate.core.proxies import ClientAddresses, TrustedProxies
from termgate.settings import proxy_networks
from tests.unit.builders import PUBLISHED_TENANCY, TENANCY, operation

READ, WRITE = frozenset({"employee.info.read"}), frozenset({"employee.info"})


def test_clause_4_1_usage_ids_follow_the_tenancy_tree_whatever_the_path_order() -> None:
    nested = PUBLISHED_TENANCY.plan("/api/companies/{companyId}/employees/{employeeId}/absences")
    assert nested.usage_ids(("c-1", "e-1")) == (None, "c-1", "e-1")
    assert PUBLISHED_TENANCY.plan("/api/debtors/{debtorId}/companies").usage_ids(("d-1",)) == (
        "d-1",
        None,
        None,
    )
    assert TENANCY.plan("/api/debtors/{debtorId}/employees").usage_ids(("7",)) == ("7", None, None)
    assert PUBLISHED_TENANCY.plan("/api/employees/{employeeId}").usage_ids(("x" * 100,)) == (
        None,
        None,
        "x" * 64,
    )
    assert PUBLISHED_TENANCY.plan("/api/nothing/{Year}").usage_slots == (-1, -1, -1)


def test_clause_4_1_scope_used_is_the_first_alternative_the_token_holds() -> None:
    either = operation(scopes=(WRITE, READ))
    assert either.sole_scope is None
    assert either.scope_used(READ) == "employee.info.read"
    assert either.scope_used(READ | WRITE) == "employee.info"
    assert either.scope_used(frozenset({"company.info"})) is None
    both = operation(scopes=(READ | frozenset({"company.info.read"}),))
    assert both.sole_scope is None
    assert both.scope_used(READ | frozenset({"company.info.read"})) == (
        "company.info.read employee.info.read"
    )
    assert both.scope_used(READ) is None
    assert operation(scopes=(READ,)).sole_scope == "employee.info.read"
    assert operation(scopes=()).scope_used(READ) is None
    long = operation(scopes=(frozenset({"s" * 80}),))
    assert long.sole_scope is None  # does not fit the column: scope_used cuts it
    assert long.scope_used(frozenset({"s" * 80})) == "s" * 64


def test_clause_4_1_client_address_is_the_peer_unless_a_trusted_proxy_forwarded_for() -> None:
    direct = ClientAddresses()
    assert not direct.forwarded
    assert direct.of("[2001:db8::7]:5000", "203.0.113.9") == "2001:db8::7"
    assert direct.peer("127.0.0.1:80") == "127.0.0.1"
    assert direct.peer("") is None
    behind = ClientAddresses(TrustedProxies(proxy_networks("10.0.0.0/8")))
    assert behind.of("10.0.0.2:41000", "198.51.100.7, 203.0.113.9") == "203.0.113.9"
    assert behind.of("10.0.0.2:41000", None) == "10.0.0.2"
    assert behind.of("192.0.2.1:41000", "203.0.113.9") == "192.0.2.1"  # not a trusted peer
    long_chain = ", ".join(["10.0.0.9"] * 40 + ["203.0.113.5"])
    assert behind.of("10.0.0.2:1", long_chain) == "203.0.113.5"  # answered, not remembered
    assert behind.of("10.0.0.2:1", "10.0.0.9," * 40 + "x") == "10.0.0.2"  # garbage: the peer

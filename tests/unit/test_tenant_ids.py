"""Debtor ids (clause 3.3 a) are opaque strings with one canonical spelling each: a GUID in
lower case, a decimal number without leading zeros. Every other spelling is refused, so no
listing of ids and no lookalike can widen what a consent or a token covers."""

from __future__ import annotations

import pytest

from termgate.core.tenant_ids import (
    TenantIdError,
    canonical_debtor_id,
    canonical_debtor_ids,
    debtor_id,
    debtor_listing,
)
from termgate.gateway.tenancy import ids as tenancy_ids

GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"
OTHER = "0f3c2d1e-0000-4000-8000-00000000beef"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (GUID, GUID),
        (GUID.upper(), GUID),
        ("5B6a77C7-6ABE-4f31-93DC-2692169e3ea4", GUID),
        ("1001", "1001"),
        ("0", "0"),
        (1001, "1001"),
        (0, "0"),
    ],
)
def test_clause_3_3_a_debtor_ids_have_one_canonical_spelling(raw: object, canonical: str) -> None:
    assert canonical_debtor_id(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "1001 ",
        " 1001",
        "1001,1002",
        f"{GUID},{OTHER}",
        f"{GUID} ",
        f"{GUID}\n",
        f"{GUID}\x00",
        "1001\r\nX-Termgate-Debtors: 1002",
        "01001",
        "+1001",
        "-1",
        "1" * 19,  # beyond 64 bits: an upstream could read it as another, wrapped number
        "١٠٠١",  # Arabic-Indic digits: `int()` reads 1001
        "１００１",  # full-width digits
        "{" + GUID + "}",
        GUID.replace("-", ""),
        GUID[:-1],
        GUID + "0",
        "*",
        -1,
        10**18,
        True,
        1.0,
        None,
        [1001],
        b"1001",
    ],
)
def test_clause_3_3_a_anything_else_is_no_debtor_id(raw: object) -> None:
    with pytest.raises(TenantIdError, match=r"is not a customer account id$"):
        canonical_debtor_id(raw)
    if isinstance(raw, str):
        assert debtor_id(raw) is None


def test_clause_3_3_a_a_listing_is_canonical_distinct_and_ordered() -> None:
    assert canonical_debtor_ids([GUID.upper(), "1002", 1001, GUID, 1002, "999"]) == (
        "999",
        "1001",
        "1002",
        GUID,
    )
    assert debtor_listing([GUID.upper(), OTHER, 7]) == f"7,{OTHER},{GUID}"
    assert canonical_debtor_ids([]) == ()


def test_clause_3_3_a_one_bad_id_refuses_the_whole_listing() -> None:
    with pytest.raises(TenantIdError, match=r"^'1001,1002' is not a customer account id$"):
        canonical_debtor_ids(["1001", "1001,1002"])


def test_clause_3_3_a_a_refused_id_is_quoted_short_and_escaped() -> None:
    with pytest.raises(TenantIdError) as refused:
        canonical_debtor_id("\x1b[31m" + "9" * 200)
    message = str(refused.value)
    assert "\x1b" not in message
    assert len(message) < 80


def test_clause_3_3_a_the_tenancy_file_uses_the_same_forms() -> None:
    assert tenancy_ids.uuid_id(GUID.upper()) == debtor_id(GUID.upper()) == GUID
    assert tenancy_ids.integer_id("1001") == debtor_id("1001") == "1001"
    assert tenancy_ids.ID_FORMS["uuid"] is tenancy_ids.uuid_id

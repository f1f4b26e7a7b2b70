"""The tenancy file (clause 3.3 a): the published contract's default describes every path
parameter of the published document, ids have one canonical spelling, and a file that is not
valid is refused with a message naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from termgate.gateway.tenancy.config import (
    TenancyConfigError,
    load_tenancy,
    parse_tenancy,
)
from termgate.gateway.tenancy.ids import integer_id, opaque_id, uuid_id
from termgate.settings import Settings

REPO = Path(__file__).resolve().parents[2]
# ../shared beside the repository (or beside the worktrees folder a worktree lives in).
CONTRACTS = [base / "shared" / "contract" / "payroll-api-openapi.yaml" for base in REPO.parents[:2]]
GUID = "5b6a77c7-6abe-4f31-93dc-2692169e3ea4"

MINIMAL = """
[tenants.debtor]
parameter = "debtorId"
[tenants.company]
parameter = "companyId"
parent = "debtor"
listing = "/api/debtors/{debtorId}/companies"
id_field = "companyId"
"""


def published_templates() -> list[str]:
    for path in CONTRACTS:
        if path.exists():
            return list(yaml.safe_load(path.read_text())["paths"])
    pytest.skip("the published contract is not beside the repository")


def test_clause_3_3_a_default_describes_every_path_parameter_of_the_published_document() -> None:
    config = load_tenancy()
    templates = published_templates()
    assert len(templates) == 111
    refused = {t: config.plan(t).refusal for t in templates if config.plan(t).refusal}
    assert refused == {}
    tenants = {t: [name for name, _ in config.plan(t).tenants] for t in templates}
    # every debtorId, companyId and employeeId in a path is checked, children through them
    for template, names in tenants.items():
        for parameter in ("debtorId", "companyId", "employeeId"):
            assert (parameter in names) == (f"{{{parameter}}}" in template), template
    absences = "/api/companies/{companyId}/employees/{employeeId}/absences"
    assert tenants[absences] == ["companyId", "employeeId"]
    assert config.root.parameter == "debtorId"


def test_clause_3_3_a_operations_the_file_cannot_check_are_refused() -> None:
    config = parse_tenancy(MINIMAL + '[children]\nrunId = "companyId"\n')
    assert config.plan("/api/companies/{companyId}/runs/{runId}").refusal is None
    lone_child = config.plan("/api/runs/{runId}")
    assert lone_child.tenants == ()
    assert (
        lone_child.refusal
        == "{runId} is checked through {companyId}, which this path does not carry"
    )
    undescribed = config.plan("/api/companies/{companyId}/things/{thingId}")
    assert undescribed.refusal == "the tenancy configuration does not describe {thingId}"
    assert config.plan("/api/countries").refusal is None


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (GUID, GUID),
        (GUID.upper(), GUID),
        ("5B6A77C7-6abe-4F31-93dc-2692169E3EA4", GUID),
        ("{" + GUID + "}", None),
        (GUID.replace("-", ""), None),
        ("urn:uuid:" + GUID, None),
        (" " + GUID, None),
        (GUID + "\n", None),
        (GUID[:-1], None),
        (GUID[:-1] + "g", None),
        (GUID[:-1] + "٣", None),  # an Arabic-Indic digit: not ASCII
        ("", None),
    ],
)
def test_clause_3_3_a_a_guid_has_one_canonical_spelling(raw: str, canonical: str | None) -> None:
    assert uuid_id(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("0", "0"),
        ("42", "42"),
        ("042", None),
        ("+42", None),
        ("4 2", None),
        ("٤٢", None),
        ("9" * 18, "9" * 18),
        ("9" * 19, None),
        ("", None),
    ],
)
def test_clause_3_3_a_an_integer_id_has_no_leading_zero(raw: str, canonical: str | None) -> None:
    assert integer_id(raw) == canonical


def test_clause_3_3_a_opaque_ids_are_compared_exactly() -> None:
    assert opaque_id("Emp-7_a.b~") == "Emp-7_a.b~"
    assert opaque_id("emp 7") is None
    assert opaque_id("a%2Fb") is None
    assert opaque_id("x" * 129) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tenants = 1", "tenancy: tenants: must be a table of tenant kinds"),
        ("page_sise = 10\n" + MINIMAL, "tenancy: page_sise: unknown key"),
        ("page_size = 0\n" + MINIMAL, "tenancy: page_size: must be an integer from 1 to 1000"),
        ("page_size = true\n" + MINIMAL, "tenancy: page_size: must be an integer from 1 to 1000"),
        (
            MINIMAL.replace('id_field = "companyId"', 'id_feld = "companyId"'),
            "tenancy: tenants.company.id_feld: unknown key",
        ),
        (
            MINIMAL.replace('id_field = "companyId"', ""),
            "tenancy: tenants.company: needs `listing` and `id_field`: where its ids are learnt",
        ),
        (
            MINIMAL.replace("{debtorId}", "{debtor}"),
            "tenancy: tenants.company.listing: must name exactly the parent's parameter {debtorId}",
        ),
        (
            MINIMAL.replace('parent = "debtor"', 'parent = "customer"'),
            "tenancy: tenants.company.parent: no kind is called 'customer'",
        ),
        (
            MINIMAL.replace('parent = "debtor"', ""),
            "tenancy: tenants: needs exactly one kind without a parent, not 2",
        ),
        (
            MINIMAL + '[tenants.debtor2]\nparameter = "x"\nparent = "debtor3"\n'
            '[tenants.debtor3]\nparameter = "y"\nparent = "debtor2"\n',
            "tenancy: tenants.debtor2.parent: the parents form a cycle",
        ),
        (
            MINIMAL.replace('parameter = "debtorId"', 'parameter = "debtorId"\nid_form = "guid"'),
            "tenancy: tenants.debtor.id_form: must be one of integer, opaque, uuid",
        ),
        (
            MINIMAL.replace('parameter = "debtorId"', 'parameter = ""'),
            "tenancy: tenants.debtor.parameter: must be a non-empty string",
        ),
        (
            MINIMAL.replace('parameter = "companyId"', 'parameter = "debtorId"'),
            "tenancy: tenants: two kinds name the same path parameter",
        ),
        (
            MINIMAL + 'global_listing = "/api/companies"\n',
            "tenancy: tenants.company.parent_field: is required with `global_listing`",
        ),
        (
            MINIMAL + 'parent_field = "debtorId"\n',
            "tenancy: tenants.company.parent_field: is only used with `global_listing`",
        ),
        (
            MINIMAL + 'global_listing = "/api/{x}/companies"\nparent_field = "debtorId"\n',
            "tenancy: tenants.company.global_listing: takes no path parameter",
        ),
        (
            MINIMAL + '[tenants.employee]\nparameter = "employeeId"\nparent = "company"\n'
            'listing = "/api/companies/{companyId}/employees"\nid_field = "employeeId"\n'
            'global_listing = "/api/employees"\nparent_field = "companyId"\n',
            "tenancy: tenants.employee.global_listing: is only supported under the root kind",
        ),
        (
            MINIMAL.replace("[tenants.company]", 'listing = "/api/debtors"\n[tenants.company]'),
            "tenancy: tenants.debtor.listing: the root is named by the consent, not learnt",
        ),
        (
            MINIMAL + '[children]\nrunId = "runId2"\n',
            "tenancy: children.runId: 'runId2' is not a tenant parameter",
        ),
        (
            MINIMAL + "[children]\nrunId = 3\n",
            "tenancy: children.runId: 3 is not a tenant parameter",
        ),
        (
            MINIMAL + '[children]\ncompanyId = "debtorId"\n',
            "tenancy: children.companyId: is a tenant parameter itself",
        ),
        (
            MINIMAL + '[untenanted]\nparameters = ["Year", "companyId"]\n',
            "tenancy: untenanted.parameters: 'companyId' is declared elsewhere",
        ),
        (
            MINIMAL + '[untenanted]\nparameters = "Year"\n',
            "tenancy: untenanted.parameters: must be a list of parameter names",
        ),
        (MINIMAL + '[untenanted]\nnames = ["Year"]\n', "tenancy: untenanted.names: unknown key"),
        ("[tenants.debtor", "tenancy: not valid TOML: "),
    ],
)
def test_a_tenancy_file_that_is_not_valid_is_refused_naming_the_key(
    text: str, message: str
) -> None:
    with pytest.raises(TenancyConfigError) as raised:
        parse_tenancy(text)
    assert str(raised.value).startswith(message)
    assert message.endswith(": ") or str(raised.value) == message


def test_the_tenancy_file_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "provider.toml"
    path.write_text(MINIMAL.replace("companyId", "clientId").replace("/companies", "/clients"))
    monkeypatch.setenv("TERMGATE_TENANCY_PATH", str(path))
    monkeypatch.setenv("TERMGATE_TENANCY_CAPACITY", "500")
    settings = Settings()
    assert settings.tenancy_capacity == 500
    assert settings.tenancy_refresh_seconds == 30.0
    config = load_tenancy(settings.tenancy_path)
    assert [name for name, _ in config.plan("/api/clients/{clientId}").tenants] == ["clientId"]
    with pytest.raises(TenancyConfigError, match=re.escape(f"{tmp_path}/absent.toml: cannot")):
        load_tenancy(tmp_path / "absent.toml")

"""The admin API's request and response bodies; FastAPI generates the OpenAPI schemas from these.

Response models read ORM rows directly (`from_attributes`); request bodies are strict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path
from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasPath,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)
from pydantic.alias_generators import to_camel

from termgate.core.errors import RegistryError
from termgate.problems import ErrorType
from termgate.registry.developers import normalise_email
from termgate.strict import control_character

ID_PATTERN = r"^[^\x00-\x1f\x7f/]+$"
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]


def _storable(value: str) -> str:
    found = control_character(value, multiline=True)
    if found is not None:
        raise ValueError(f"must not contain control characters such as {found}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _single_line(value: str) -> str:
    if len(value.splitlines()) != 1 or not value.isprintable():
        raise ValueError("must be one line of printable text")
    return _not_blank(value)


Text = Annotated[str, AfterValidator(_storable)]
Filled = Annotated[
    str, Field(min_length=1, pattern=r"\S"), AfterValidator(_storable), AfterValidator(_not_blank)
]
Reason = Annotated[Filled, Field(max_length=2000)]
LINE_CHARS = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
Line = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=rf"^{LINE_CHARS}*\S{LINE_CHARS}*$"),
    AfterValidator(_single_line),
]
# JSON has no date-time or enum type: these are read from their strings (the body stays strict).
When = Annotated[AwareDatetime, Field(strict=False)]
Label = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Body(BaseModel):
    """A request body: camelCase names, nothing unknown accepted, and strict JSON types (a
    number is a number: neither `true` nor `"10"` is a page size). FastAPI validates the decoded
    JSON in Python mode, so date-times and enums are marked lax (`When`, `Field(strict=False)`)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        strict=True,
    )


def _words(value: Any) -> Any:
    return value.split() if isinstance(value, str) else value


def _is_set(value: Any) -> Any:
    return value if isinstance(value, bool) else value is not None


def related(*path: str) -> Any:
    """A field read from a related row (`plan.product.slug`); a dict gives it by its own name."""
    return Field(validation_alias=AliasPath(*path))


Words = Annotated[list[str], BeforeValidator(_words)]


class Out(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        alias_generator=to_camel,
        serialize_by_alias=True,
        validate_by_alias=True,
        validate_by_name=True,
    )


class StatusChange(Body):
    """Why the party is suspended or reinstated; recorded and sent to the developer."""

    reason: Reason


class Approval(Body):
    """An optional note to the developer with the approval."""

    reason: Annotated[Text, Field(max_length=2000)] = ""


class Rejection(Body):
    """Why production access is refused; the developer reads it."""

    reason: Reason


class Revocation(Body):
    """Why the key is revoked (final; the developer issues a new one)."""

    reason: Reason


class TermsDraft(Body):
    """A new version of the API Terms of Use (clause 9)."""

    version: Label
    title: Line
    body: Annotated[Filled, Field(max_length=200_000)]
    change_summary: Annotated[Text, Field(max_length=5000)] = ""
    reaccept_days: Annotated[int | None, Field(ge=0, le=3650)] = None


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except RegistryError as error:
        raise ValueError(str(error)) from None


Email = Annotated[str, Field(min_length=3, max_length=320), AfterValidator(_email)]
# The registry's USE_CASE_CATEGORIES, spelled out for the schema (a test keeps them equal).
Category = Literal["accounting", "hr", "analytics", "benefits", "time", "other"]
DataAccess = Literal["on_demand", "scheduled_sync", "periodic_reports"]
Scope = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_single_line)]
Uri = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_single_line)]


class DeveloperDraft(Body):
    """A developer account made by the provider. It has no password: with `invite` the developer
    is mailed a link to choose one (valid a week); without, they use "forgot password"."""

    email: Email
    name: Line
    organisation: Line | None = None
    invite: bool = True
    accept_terms: bool = Field(
        default=False,
        description="record that the developer accepted the current terms outside the portal "
        "(a signed agreement); the acceptance ledger notes it as such (clause 1)",
    )


class ApplicationDraft(Body):
    """An application of the developer; it has sandbox access until a production review."""

    name: Line
    description: Annotated[Text, Field(max_length=5000)] = ""
    use_case: Annotated[Text, Field(max_length=5000)] = ""
    use_case_category: Category | None = None
    data_access: DataAccess | None = None
    requested_scopes: Annotated[list[Scope], Field(max_length=50)] = []
    redirect_uris: Annotated[list[Uri], Field(max_length=20)] = Field(
        default=[],
        description="for an OAuth client: https (http only on the loopback), no #fragment",
    )
    expected_end_users: Annotated[int | None, Field(ge=1, le=10_000_000)] = None


class SubscriptionDraft(Body):
    """The plan to subscribe to: `product/plan` (e.g. `sandbox/free`) or the plan's id."""

    plan: Annotated[str, Field(min_length=1, max_length=130, pattern=r"^[^\x00-\x1f\x7f]+$")]


class KeyDraft(Body):
    """Which slot the key goes in; a live key already there is revoked (rotation)."""

    slot: Literal["primary", "secondary"] = "primary"


class Page(BaseModel):
    """Which page of a list: numbered from 1, at most 100 items a page."""

    model_config = ConfigDict(
        extra="ignore", alias_generator=to_camel, validate_by_alias=True, validate_by_name=False
    )

    page_number: Annotated[int, Field(ge=1, le=100_000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 20


class ApplicationFilter(Page):
    developer_id: Annotated[Text | None, Field(max_length=64)] = None


class SubscriptionFilter(Page):
    application_id: Annotated[Text | None, Field(max_length=64)] = None


class Pagination(Out):
    page_number: int
    page_size: int
    total_pages: int
    total_records: int


Item = TypeVar("Item", bound=BaseModel)


class Listing(Out, Generic[Item]):
    data: list[Item]
    pagination: Pagination


class DeveloperOut(Out):
    id: str
    email: str
    name: str
    organisation: str | None
    status: str
    status_reason: str | None
    email_verified: Annotated[bool, BeforeValidator(_is_set)] = Field(
        validation_alias=AliasChoices("emailVerified", "email_verified_at")
    )
    created_at: datetime


class ApplicationOut(Out):
    id: str
    developer_id: str
    name: str
    description: str
    use_case_category: str | None
    data_access: str | None
    use_case: str
    requested_scopes: Words
    environment: str
    status: str
    status_reason: str | None
    created_at: datetime


class KeyOut(Out):
    id: str
    subscription_id: str
    slot: str
    prefix: str
    status: str
    status_reason: str | None
    created_at: datetime
    revoked_at: datetime | None


class IssuedKeyOut(KeyOut):
    """The key with its secret, shown this once; only its hash is kept."""

    secret: str


class SubscriptionOut(Out):
    id: str
    application_id: str
    product: str = related("plan", "product", "slug")
    plan: str = related("plan", "slug")
    status: str
    status_reason: str | None
    created_at: datetime


class SubscriptionDetail(SubscriptionOut):
    keys: list[KeyOut]


class DeveloperDetail(DeveloperOut):
    applications: list[ApplicationOut]
    accepted_terms: list[str]


class ApplicationDetail(ApplicationOut):
    subscriptions: list[SubscriptionDetail]


class ReviewOut(Out):
    id: str
    application_id: str
    application_name: str
    developer_id: str
    use_case: str
    requested_scopes: list[str]
    note: str
    state: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None


class TermsOut(Out):
    id: str
    version: str
    title: str
    change_summary: str
    effective_at: datetime
    published_at: datetime
    reaccept_deadline: datetime | None
    published_by: str
    current: bool = False


class TermsDetail(TermsOut):
    body: str


class AcceptanceOut(Out):
    developer_id: str
    developer_email: str
    accepted_at: datetime
    ip: str
    user_agent: str


class AuditEntryOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    reason: str
    previous_hash: str
    hash: str


class AuditListing(Listing[AuditEntryOut]):
    chain_intact: bool
    first_broken_entry: int | None


class InvalidParam(BaseModel):
    name: str
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem document in the API contract's error model (`type` from its enum,
    `httpStatus`), with the numeric code and the clause of the terms."""

    model_config = ConfigDict(serialize_by_alias=True)

    type: ErrorType
    http_status: int = Field(alias="httpStatus")
    title: str
    status: int
    detail: str
    code: int
    clause: str
    instance: str | None = None
    invalid_params: list[InvalidParam] | None = Field(default=None, alias="invalid-params")

"""The admin REST API (bearer admin token) with its OpenAPI document.

`OPERATIONS` is the one route table: the Starlette routes and the OpenAPI document are both
built from it, so the document cannot drift from what is served.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from termgate.db.models import Status
from termgate.web.admin_api import parties, plans, policy, programme
from termgate.web.admin_api.framework import Operation, build_routes, fallback
from termgate.web.admin_api.models import (
    AcceptanceOut,
    ApplicationDetail,
    ApplicationFilter,
    ApplicationOut,
    Approval,
    AuditListing,
    DeveloperDetail,
    DeveloperOut,
    KeyOut,
    Listing,
    Page,
    Rejection,
    ReviewOut,
    Revocation,
    StatusChange,
    SubscriptionFilter,
    SubscriptionOut,
    TermsDetail,
    TermsDraft,
    TermsOut,
)
from termgate.web.admin_api.openapi import openapi_document

BASE_PATH = "/admin/api"
SUSPEND = Status.SUSPENDED
REINSTATE = Status.ACTIVE


def _status_operations(
    kind: str,
    plural: str,
    response: type[DeveloperOut] | type[ApplicationOut] | type[SubscriptionOut] | type[KeyOut],
) -> list[Operation]:
    return [
        Operation(
            "POST",
            f"/{plural}/{{{kind}_id}}/{verb}",
            f"{verb}{kind.title()}",
            f"{verb.title()} a {kind}, with a reason the developer reads",
            plural,
            "3.1",
            parties.status_change(kind, status),
            response,
            body=StatusChange,
        )
        for verb, status in (("suspend", SUSPEND), ("reinstate", REINSTATE))
    ]


OPERATIONS: list[Operation] = [
    Operation(
        "GET",
        "/developers",
        "listDevelopers",
        "List developer accounts",
        "developers",
        "1",
        parties.list_developers_op,
        Listing[DeveloperOut],
        query=Page,
    ),
    Operation(
        "GET",
        "/developers/{developer_id}",
        "getDeveloper",
        "A developer with their applications and accepted terms versions",
        "developers",
        "1",
        parties.get_developer,
        DeveloperDetail,
    ),
    *_status_operations("developer", "developers", DeveloperOut),
    Operation(
        "GET",
        "/applications",
        "listApplications",
        "List applications",
        "applications",
        "2",
        parties.list_applications_op,
        Listing[ApplicationOut],
        query=ApplicationFilter,
    ),
    Operation(
        "GET",
        "/applications/{application_id}",
        "getApplication",
        "An application with its subscriptions and keys (by prefix)",
        "applications",
        "2",
        parties.get_application,
        ApplicationDetail,
    ),
    *_status_operations("application", "applications", ApplicationOut),
    Operation(
        "GET",
        "/reviews",
        "listReviews",
        "Production requests waiting for a decision",
        "reviews",
        "3.2",
        programme.list_reviews,
        Listing[ReviewOut],
        query=Page,
    ),
    Operation(
        "POST",
        "/reviews/{review_id}/approve",
        "approveReview",
        "Approve production access; the developer is told",
        "reviews",
        "3.2",
        programme.approve_review,
        ReviewOut,
        body=Approval,
        body_required=False,
    ),
    Operation(
        "POST",
        "/reviews/{review_id}/reject",
        "rejectReview",
        "Reject production access with a reason the developer reads",
        "reviews",
        "3.2",
        programme.reject_review,
        ReviewOut,
        body=Rejection,
    ),
    Operation(
        "GET",
        "/subscriptions",
        "listSubscriptions",
        "List subscriptions",
        "subscriptions",
        "2",
        parties.list_subscriptions_op,
        Listing[SubscriptionOut],
        query=SubscriptionFilter,
    ),
    *_status_operations("subscription", "subscriptions", SubscriptionOut),
    Operation(
        "GET",
        "/keys",
        "listKeys",
        "List subscription keys (prefixes only; never secrets)",
        "keys",
        "2",
        parties.list_keys_op,
        Listing[KeyOut],
        query=SubscriptionFilter,
    ),
    *_status_operations("key", "keys", KeyOut),
    Operation(
        "POST",
        "/keys/{key_id}/revoke",
        "revokeKey",
        "Revoke a key for good (clauses 1 and 2: the licence is revocable)",
        "keys",
        "2",
        parties.revoke_key_op,
        KeyOut,
        body=Revocation,
    ),
    Operation(
        "GET",
        "/terms",
        "listTerms",
        "Published versions of the terms, newest first",
        "terms",
        "9",
        programme.list_terms,
        Listing[TermsOut],
        query=Page,
    ),
    Operation(
        "POST",
        "/terms",
        "publishTerms",
        "Publish a new terms version; every developer is told and must re-accept",
        "terms",
        "9",
        programme.publish_terms_op,
        TermsDetail,
        status=201,
        body=TermsDraft,
        location=programme.terms_location,
    ),
    Operation(
        "GET",
        "/terms/{version}",
        "getTerms",
        "One terms version with its full text",
        "terms",
        "9",
        programme.get_terms,
        TermsDetail,
    ),
    Operation(
        "GET",
        "/terms/{version}/acceptances",
        "listAcceptances",
        "Who accepted a terms version, when and from where",
        "terms",
        "1",
        programme.list_acceptances,
        Listing[AcceptanceOut],
        query=Page,
    ),
    Operation(
        "GET",
        "/audit",
        "listAudit",
        "The audit trail, newest first, and whether its hash chain is intact",
        "audit",
        "4.2",
        programme.list_audit,
        AuditListing,
        query=Page,
    ),
]


# Traffic policy: the maintenance calendar (8), lifecycles (4.6), announcements (4.5 a).
OPERATIONS += [
    Operation(
        "GET",
        "/plans",
        "listPlans",
        "Every plan with its limits",
        "plans",
        "4.4",
        plans.list_plans_op,
        plans.PlanListing,
    ),
    Operation(
        "PATCH",
        "/plans/{plan_id}",
        "changePlanLimits",
        "Change a plan's limits; in force on every gateway node within a second",
        "plans",
        "4.4",
        plans.change_plan,
        plans.PlanOut,
        body=plans.PlanChange,
    ),
]

OPERATIONS += [
    Operation(
        "GET",
        "/maintenance",
        "getMaintenanceCalendar",
        "The weekly window, the coming windows and the exceptions",
        "maintenance",
        "8",
        policy.checked(policy.get_calendar),
        policy.CalendarOut,
    ),
    Operation(
        "PUT",
        "/maintenance/rule",
        "setMaintenanceRule",
        "Set the weekly window (evaluated in its own time zone)",
        "maintenance",
        "8",
        policy.checked(policy.put_rule),
        policy.CalendarOut,
        body=policy.RuleIn,
    ),
    Operation(
        "POST",
        "/maintenance/exceptions",
        "addMaintenanceException",
        "Cancel or move one weekly window, or add an extra one; developers are told when near",
        "maintenance",
        "8",
        policy.checked(policy.add_exception),
        policy.ExceptionOut,
        status=201,
        body=policy.ExceptionIn,
    ),
    Operation(
        "DELETE",
        "/maintenance/exceptions/{exception_id}",
        "removeMaintenanceException",
        "Remove an exception; the weekly rule applies again",
        "maintenance",
        "8",
        policy.checked(policy.delete_exception),
        policy.CalendarOut,
    ),
    Operation(
        "GET",
        "/lifecycle",
        "listLifecycles",
        "Operations that are deprecated, sunset or retired, with their brown-outs",
        "lifecycle",
        "4.6",
        policy.checked(policy.list_lifecycles),
        policy.LifecycleListing,
    ),
    Operation(
        "PUT",
        "/lifecycle",
        "setLifecycle",
        "Put operations in a lifecycle state; a deprecation is announced to their callers",
        "lifecycle",
        "4.6",
        policy.checked(policy.put_lifecycle),
        policy.LifecycleListing,
        body=policy.LifecycleIn,
    ),
    Operation(
        "POST",
        "/lifecycle/brownouts",
        "addBrownout",
        "Schedule a brown-out (410) of deprecated operations before their sunset",
        "lifecycle",
        "4.6",
        policy.checked(policy.post_brownout),
        policy.LifecycleListing,
        status=201,
        body=policy.BrownoutIn,
    ),
    Operation(
        "GET",
        "/announcements",
        "listAnnouncements",
        "Announcements, newest first, with the applications each affected",
        "announcements",
        "4.5 a",
        policy.checked(policy.list_announcements),
        policy.AnnouncementListing,
    ),
    Operation(
        "POST",
        "/announcements",
        "announceChange",
        "Announce a change to the developers whose apps called the operations in 90 days",
        "announcements",
        "4.5 a",
        policy.checked(policy.post_announcement),
        policy.AnnouncementOut,
        status=201,
        body=policy.AnnouncementIn,
        location=policy.announcement_location,
    ),
]


async def openapi(_request: Request) -> Response:
    return JSONResponse(openapi_document(OPERATIONS, BASE_PATH))


def routes() -> list[BaseRoute]:
    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        *build_routes(OPERATIONS),
        fallback(OPERATIONS),
    ]

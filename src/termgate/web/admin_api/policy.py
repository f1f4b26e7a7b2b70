"""Traffic policy in the admin API: the maintenance calendar (clause 8), operation lifecycles
and brown-outs (4.6), and announcements to the affected developers (4.5 a).

Bad input (a time without an offset, an unknown operationId, a sunset before the deprecation)
is a 400 problem naming the field (`PolicyInputError`); the transaction is rolled back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from termgate.db.traffic import LifecycleState
from termgate.governance.announcements import announce, deprecation_notice, published
from termgate.governance.errors import PolicyInputError
from termgate.governance.lifecycle import LifecycleView, add_brownout, all_lifecycles, set_lifecycle
from termgate.governance.maintenance_calendar import (
    add_window,
    cancel_window,
    load_calendar,
    move_window,
    notify_due,
    remove_exception,
    set_rule,
    upcoming,
)
from termgate.governance.operations import resolve
from termgate.web.admin_api.access import Admin, Caller
from termgate.web.admin_api.models import Body, Filled, Id, Line, Out, Text, When, Words
from termgate.web.admin_api.problems import REFUSED, clause
from termgate.web.admin_api.programme import LOCATION

OperationIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=50)
]


class RuleIn(Body):
    """The weekly window, in its own time zone."""

    weekday: Annotated[int, Field(ge=0, le=6, description="0 Monday … 6 Sunday")]
    start_time: Annotated[str, Field(pattern=r"^\d{1,2}:\d{2}$", examples=["20:00"])]
    duration_minutes: Annotated[int, Field(ge=1, le=1440)]
    time_zone: Annotated[str, Field(min_length=1, max_length=64)] = "Europe/Amsterdam"


class ExceptionIn(Body):
    """cancel: `originalStart`; move: `originalStart`, `start`, optional `durationMinutes`;
    extra: `start`, `durationMinutes`. Times in UTC or with an offset."""

    kind: Literal["cancel", "move", "extra"]
    original_start: When | None = None
    start: When | None = None
    duration_minutes: Annotated[int | None, Field(ge=1, le=1440)] = None
    reason: Annotated[Text, Field(max_length=500)] = ""


class RuleOut(Out):
    id: str
    weekday: int
    start_time: str
    duration_minutes: int
    time_zone: str


class WindowOut(Out):
    start: datetime
    end: datetime
    reason: str
    kind: str
    uid: str


class ExceptionOut(Out):
    id: str
    kind: str
    original_start: datetime | None
    start: datetime | None
    duration_minutes: int | None
    reason: str
    notified_at: datetime | None


class CalendarOut(Out):
    rule: RuleOut | None
    windows: list[WindowOut]
    exceptions: list[ExceptionOut]
    notice_days: int


class LifecycleIn(Body):
    """Put operations (a group: several ids) in a state; `announce` tells the developers whose
    applications called them in the last 90 days (on deprecation)."""

    operations: OperationIds
    state: Annotated[LifecycleState, Field(strict=False)]
    sunset_at: When | None = None
    migration_url: Annotated[str | None, Field(max_length=2000)] = None
    announce: bool = True


class BrownoutIn(Body):
    operations: OperationIds
    start: When
    end: When


class BrownoutOut(Out):
    id: str
    start: datetime
    end: datetime


class LifecycleRow(Out):
    operation_id: str
    state: str
    deprecated_at: datetime | None
    sunset_at: datetime | None
    migration_url: str | None


class LifecycleOut(LifecycleRow):
    brownouts: list[BrownoutOut]


class LifecycleListing(Out):
    data: list[LifecycleOut]


class AnnouncementIn(Body):
    title: Line
    body: Annotated[Filled, Field(max_length=20_000)]
    operations: OperationIds


class RecipientOut(Out):
    developer_id: str
    developer_email: str
    application_id: str
    application_name: str
    operations: Words


class AnnouncementRow(Out):
    id: str
    title: str
    body: str
    operations: Words
    published_at: datetime
    published_by: str


class AnnouncementOut(AnnouncementRow):
    recipients: list[RecipientOut]


class AnnouncementListing(Out):
    data: list[AnnouncementOut]


router = APIRouter()


async def _calendar(admin: Caller) -> CalendarOut:
    now = admin.settings.now()
    rules, changes = await load_calendar(admin.session)
    return CalendarOut(
        rule=rules[0] if rules else None,
        windows=await upcoming(admin.session, now),
        exceptions=changes,
        notice_days=admin.settings.maintenance_notice_days,
    )


@router.get(
    "/maintenance",
    operation_id="getMaintenanceCalendar",
    summary="The weekly window, the coming windows and the exceptions",
    tags=["maintenance"],
    openapi_extra=clause("8"),
)
async def get_calendar(admin: Admin) -> CalendarOut:
    return await _calendar(admin)


@router.put(
    "/maintenance/rule",
    operation_id="setMaintenanceRule",
    summary="Set the weekly window (evaluated in its own time zone)",
    responses=REFUSED,
    tags=["maintenance"],
    openapi_extra=clause("8"),
)
async def put_rule(admin: Admin, body: RuleIn) -> CalendarOut:
    await set_rule(
        admin.session,
        weekday=body.weekday,
        start_time=body.start_time,
        duration_minutes=body.duration_minutes,
        time_zone=body.time_zone,
        actor=admin.actor,
    )
    return await _calendar(admin)


def _need(value: datetime | None, name: str) -> datetime:
    if value is None:
        raise PolicyInputError(name, f"{name} is required for this kind")
    return value


@router.post(
    "/maintenance/exceptions",
    operation_id="addMaintenanceException",
    summary="Cancel or move one weekly window, or add an extra one; developers are told when near",
    status_code=201,
    responses=REFUSED,
    tags=["maintenance"],
    openapi_extra=clause("8"),
)
async def add_exception(admin: Admin, body: ExceptionIn) -> ExceptionOut:
    now = admin.settings.now()
    session, actor = admin.session, admin.actor
    if body.kind == "cancel":
        original = _need(body.original_start, "originalStart")
        change = await cancel_window(session, original, body.reason, actor, now)
    elif body.kind == "move":
        original, start = _need(body.original_start, "originalStart"), _need(body.start, "start")
        change = await move_window(
            session, original, start, body.duration_minutes, body.reason, actor, now
        )
    else:
        if body.duration_minutes is None:
            raise PolicyInputError("durationMinutes", "durationMinutes is required for extra")
        start = _need(body.start, "start")
        change = await add_window(session, start, body.duration_minutes, body.reason, actor, now)
    await notify_due(session, now, admin.settings.maintenance_notice_days)
    return ExceptionOut.model_validate(change)


@router.delete(
    "/maintenance/exceptions/{exception_id}",
    operation_id="removeMaintenanceException",
    summary="Remove an exception; the weekly rule applies again",
    responses=REFUSED,
    tags=["maintenance"],
    openapi_extra=clause("8"),
)
async def delete_exception(admin: Admin, exception_id: Id) -> CalendarOut:
    """An exception that is not (or no longer) there is a 404: the caller named the wrong one."""
    await remove_exception(admin.session, exception_id, admin.actor)
    return await _calendar(admin)


def _lifecycle_out(item: LifecycleView) -> LifecycleOut:
    return LifecycleOut(
        **LifecycleRow.model_validate(item.row).model_dump(), brownouts=item.brownouts
    )


async def _lifecycles(admin: Caller) -> LifecycleListing:
    return LifecycleListing(data=[_lifecycle_out(i) for i in await all_lifecycles(admin.session)])


@router.get(
    "/lifecycle",
    operation_id="listLifecycles",
    summary="Operations that are deprecated, sunset or retired, with their brown-outs",
    tags=["lifecycle"],
    openapi_extra=clause("4.6"),
)
async def list_lifecycles(admin: Admin) -> LifecycleListing:
    return await _lifecycles(admin)


@router.put(
    "/lifecycle",
    operation_id="setLifecycle",
    summary="Put operations in a lifecycle state; a deprecation is announced to their callers",
    responses=REFUSED,
    tags=["lifecycle"],
    openapi_extra=clause("4.6"),
)
async def put_lifecycle(admin: Admin, body: LifecycleIn) -> LifecycleListing:
    now = admin.settings.now()
    operations = await resolve(admin.settings, body.operations)
    rows = await set_lifecycle(
        admin.session,
        [op.operation_id for op in operations],
        body.state,
        actor=admin.actor,
        now=now,
        sunset_at=body.sunset_at,
        migration_url=body.migration_url,
    )
    if body.announce and body.state is LifecycleState.DEPRECATED:
        title, text = deprecation_notice(operations, rows[0].sunset_at, rows[0].migration_url)
        await announce(
            admin.session, title=title, body=text, operations=operations, actor=admin.actor, now=now
        )
    return await _lifecycles(admin)


@router.post(
    "/lifecycle/brownouts",
    operation_id="addBrownout",
    summary="Schedule a brown-out (410) of deprecated operations before their sunset",
    status_code=201,
    responses=REFUSED,
    tags=["lifecycle"],
    openapi_extra=clause("4.6"),
)
async def post_brownout(admin: Admin, body: BrownoutIn) -> LifecycleListing:
    operations = await resolve(admin.settings, body.operations)
    await add_brownout(
        admin.session,
        [op.operation_id for op in operations],
        body.start,
        body.end,
        actor=admin.actor,
        now=admin.settings.now(),
    )
    return await _lifecycles(admin)


async def _announcements(admin: Caller) -> AnnouncementListing:
    return AnnouncementListing(
        data=[
            AnnouncementOut(
                **AnnouncementRow.model_validate(item.announcement).model_dump(),
                recipients=[
                    RecipientOut(
                        developer_id=developer.id,
                        developer_email=developer.email,
                        application_id=application.id,
                        application_name=application.name,
                        operations=operations,
                    )
                    for developer, application, operations in item.recipients
                ],
            )
            for item in await published(admin.session)
        ]
    )


@router.get(
    "/announcements",
    operation_id="listAnnouncements",
    summary="Announcements, newest first, with the applications each affected",
    tags=["announcements"],
    openapi_extra=clause("4.5"),
)
async def list_announcements(admin: Admin) -> AnnouncementListing:
    return await _announcements(admin)


@router.post(
    "/announcements",
    operation_id="announceChange",
    summary="Announce a change to the developers whose apps called the operations in 90 days",
    status_code=201,
    responses={201: {"headers": LOCATION}, **REFUSED},
    tags=["announcements"],
    openapi_extra=clause("4.5"),
)
async def post_announcement(
    admin: Admin, body: AnnouncementIn, response: Response
) -> AnnouncementOut:
    operations = await resolve(admin.settings, body.operations)
    announcement, _ = await announce(
        admin.session,
        title=body.title,
        body=body.body,
        operations=operations,
        actor=admin.actor,
        now=admin.settings.now(),
    )
    await admin.session.flush()
    listing = await _announcements(admin)
    response.headers["location"] = f"/admin/api/announcements#{announcement.id}"
    return next(item for item in listing.data if item.id == announcement.id)

"""Traffic policy in the admin API: the maintenance calendar (clause 8), operation lifecycles
and brown-outs (4.6), and announcements to the affected developers (4.5 a).

Bad input (a time without an offset, an unknown operationId, a sunset before the deprecation)
is a 400 problem naming the field; the transaction is rolled back, so nothing changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from termgate.db.traffic import LifecycleState, MaintenanceException
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
from termgate.web.admin_api.framework import Call, Handler
from termgate.web.admin_api.models import Body, Filled, Line, Out, Text
from termgate.web.admin_api.problems import InvalidRequestError

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
    original_start: AwareDatetime | None = None
    start: AwareDatetime | None = None
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
    state: LifecycleState
    sunset_at: AwareDatetime | None = None
    migration_url: Annotated[str | None, Field(max_length=2000)] = None
    announce: bool = True


class BrownoutIn(Body):
    operations: OperationIds
    start: AwareDatetime
    end: AwareDatetime


class BrownoutOut(Out):
    id: str
    start: datetime
    end: datetime


class LifecycleOut(Out):
    operation_id: str
    state: str
    deprecated_at: datetime | None
    sunset_at: datetime | None
    migration_url: str | None
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
    operations: list[str]


class AnnouncementOut(Out):
    id: str
    title: str
    body: str
    operations: list[str]
    published_at: datetime
    published_by: str
    recipients: list[RecipientOut]


class AnnouncementListing(Out):
    data: list[AnnouncementOut]


def checked(handler: Handler) -> Handler:
    """Governance refusals of input become 400 problems naming the field."""

    async def run(call: Call) -> BaseModel:
        try:
            return await handler(call)
        except PolicyInputError as error:
            raise InvalidRequestError([{"name": error.field, "reason": str(error)}]) from None

    return run


def _exception_out(change: MaintenanceException) -> ExceptionOut:
    return ExceptionOut(
        id=change.id,
        kind=change.kind.value,
        original_start=change.original_start,
        start=change.start,
        duration_minutes=change.duration_minutes,
        reason=change.reason,
        notified_at=change.notified_at,
    )


async def _calendar(call: Call) -> CalendarOut:
    now = call.settings.now()
    rules, changes = await load_calendar(call.session)
    rule = rules[0] if rules else None
    return CalendarOut(
        rule=RuleOut.model_validate(rule, from_attributes=True) if rule else None,
        windows=[
            WindowOut(start=w.start, end=w.end, reason=w.reason, kind=w.kind, uid=w.uid)
            for w in await upcoming(call.session, now)
        ],
        exceptions=[_exception_out(change) for change in changes],
        notice_days=call.settings.maintenance_notice_days,
    )


async def get_calendar(call: Call) -> BaseModel:
    return await _calendar(call)


async def put_rule(call: Call) -> BaseModel:
    body = call.payload(RuleIn)
    await set_rule(
        call.session,
        weekday=body.weekday,
        start_time=body.start_time,
        duration_minutes=body.duration_minutes,
        time_zone=body.time_zone,
        actor=call.actor,
    )
    return await _calendar(call)


def _need(value: datetime | None, name: str) -> datetime:
    if value is None:
        raise PolicyInputError(name, f"{name} is required for this kind")
    return value


async def add_exception(call: Call) -> BaseModel:
    body = call.payload(ExceptionIn)
    now = call.settings.now()
    session, actor = call.session, call.actor
    if body.kind == "cancel":
        change = await cancel_window(
            session, _need(body.original_start, "originalStart"), body.reason, actor, now
        )
    elif body.kind == "move":
        change = await move_window(
            session,
            _need(body.original_start, "originalStart"),
            _need(body.start, "start"),
            body.duration_minutes,
            body.reason,
            actor,
            now,
        )
    else:
        if body.duration_minutes is None:
            raise PolicyInputError("durationMinutes", "durationMinutes is required for extra")
        change = await add_window(
            session, _need(body.start, "start"), body.duration_minutes, body.reason, actor, now
        )
    await notify_due(session, now, call.settings.maintenance_notice_days)
    return _exception_out(change)


async def delete_exception(call: Call) -> BaseModel:
    """An exception that is not (or no longer) there is a 404: the caller named the wrong one."""
    await remove_exception(call.session, call.path["exception_id"], call.actor)
    return await _calendar(call)


def _lifecycle_out(item: LifecycleView) -> LifecycleOut:
    row = item.row
    return LifecycleOut(
        operation_id=row.operation_id,
        state=row.state.value,
        deprecated_at=row.deprecated_at,
        sunset_at=row.sunset_at,
        migration_url=row.migration_url,
        brownouts=[BrownoutOut(id=b.id, start=b.start, end=b.end) for b in item.brownouts],
    )


async def list_lifecycles(call: Call) -> BaseModel:
    return LifecycleListing(data=[_lifecycle_out(i) for i in await all_lifecycles(call.session)])


async def put_lifecycle(call: Call) -> BaseModel:
    body = call.payload(LifecycleIn)
    now = call.settings.now()
    operations = await resolve(call.settings, body.operations)
    rows = await set_lifecycle(
        call.session,
        [op.operation_id for op in operations],
        body.state,
        actor=call.actor,
        now=now,
        sunset_at=body.sunset_at,
        migration_url=body.migration_url,
    )
    if body.announce and body.state is LifecycleState.DEPRECATED:
        title, text = deprecation_notice(operations, rows[0].sunset_at, rows[0].migration_url)
        await announce(
            call.session, title=title, body=text, operations=operations, actor=call.actor, now=now
        )
    return await list_lifecycles(call)


async def post_brownout(call: Call) -> BaseModel:
    body = call.payload(BrownoutIn)
    operations = await resolve(call.settings, body.operations)
    await add_brownout(
        call.session,
        [op.operation_id for op in operations],
        body.start,
        body.end,
        actor=call.actor,
        now=call.settings.now(),
    )
    return await list_lifecycles(call)


async def list_announcements(call: Call) -> BaseModel:
    return AnnouncementListing(
        data=[
            AnnouncementOut(
                id=item.announcement.id,
                title=item.announcement.title,
                body=item.announcement.body,
                operations=item.announcement.operations.split(),
                published_at=item.announcement.published_at,
                published_by=item.announcement.published_by,
                recipients=[
                    RecipientOut(
                        developer_id=developer.id,
                        developer_email=developer.email,
                        application_id=application.id,
                        application_name=application.name,
                        operations=operations.split(),
                    )
                    for developer, application, operations in item.recipients
                ],
            )
            for item in await published(call.session)
        ]
    )


async def post_announcement(call: Call) -> BaseModel:
    body = call.payload(AnnouncementIn)
    operations = await resolve(call.settings, body.operations)
    announcement, _ = await announce(
        call.session,
        title=body.title,
        body=body.body,
        operations=operations,
        actor=call.actor,
        now=call.settings.now(),
    )
    await call.session.flush()
    listing = await list_announcements(call)
    assert isinstance(listing, AnnouncementListing)
    return next(item for item in listing.data if item.id == announcement.id)


def announcement_location(created: BaseModel) -> str:
    assert isinstance(created, AnnouncementOut)
    return f"/admin/api/announcements#{created.id}"

"""The chart of a finding: the party's requests (and refusals) over the finding's window, as a
small self-contained SVG that the console shows inline and serves on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
from termgate.db.monitoring import Finding
from termgate.db.usage_stretches import count_where
from termgate.monitoring.aggregate import minute_bucket
from termgate.monitoring.findings import evidence_of

BARS = 48
WIDTH, HEIGHT, MARGIN = 640, 180, 28


@dataclass(frozen=True)
class Series:
    start: datetime
    end: datetime
    requests: list[int]
    refused: list[int]


def window_of(finding: Finding) -> tuple[datetime, datetime]:
    evidence = evidence_of(finding)
    try:
        return (
            datetime.fromisoformat(str(evidence["window_start"])),
            datetime.fromisoformat(str(evidence["window_end"])),
        )
    except (KeyError, ValueError):
        return finding.last_seen - timedelta(hours=1), finding.last_seen


async def party_series(session: AsyncSession, finding: Finding) -> Series:
    start, end = window_of(finding)
    if finding.application_id:
        party = UsageEvent.application_id == finding.application_id
    elif finding.key_id:
        party = UsageEvent.key_id == finding.key_id
    else:
        party = UsageEvent.developer_id == finding.developer_id
    bucket = minute_bucket(session).label("minute")
    rows = await session.execute(
        select(bucket, func.count(), count_where(UsageEvent.status >= 400))
        .where(party, and_(UsageEvent.at >= start, UsageEvent.at < end))
        .group_by(bucket)
    )
    requests, refused = [0] * BARS, [0] * BARS
    first = int(start.timestamp() // 60)
    span = max((end - start).total_seconds() / 60, 1)
    for minute, total, bad in rows.all():
        index = min(int((int(minute) - first) * BARS / span), BARS - 1)
        if index >= 0:
            requests[index] += int(total)
            refused[index] += int(bad or 0)
    return Series(start, end, requests, refused)


def svg(series: Series, title: str) -> str:
    """Bars of requests a slot, the refused part of each in a second colour, and the axes."""
    top = max(series.requests, default=0) or 1
    slot = (WIDTH - 2 * MARGIN) / BARS
    plot = HEIGHT - 2 * MARGIN
    bars = []
    for index, (total, bad) in enumerate(zip(series.requests, series.refused, strict=True)):
        x = MARGIN + index * slot
        height = plot * total / top
        refused_height = plot * bad / top
        base = HEIGHT - MARGIN
        bars.append(
            f'<rect class="requests" x="{x:.1f}" y="{base - height:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{height:.1f}" fill="#4a78c2"><title>{total} requests, {bad} refused'
            f"</title></rect>"
        )
        if bad:
            bars.append(
                f'<rect class="refused" x="{x:.1f}" y="{base - refused_height:.1f}" '
                f'width="{slot * 0.8:.1f}" height="{refused_height:.1f}" fill="#c24a4a"/>'
            )
    start = series.start.strftime("%Y-%m-%d %H:%M")
    end = series.end.strftime("%Y-%m-%d %H:%M")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" aria-labelledby="chart-title">'
        f'<title id="chart-title">{escape(title)}: {sum(series.requests)} requests, '
        f"{sum(series.refused)} refused, {start} to {end} UTC</title>"
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" '
        f'stroke="#555"/>'
        f'<text x="{MARGIN}" y="{HEIGHT - 8}" font-size="11">{start}</text>'
        f'<text x="{WIDTH - MARGIN}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">{end}</text>'
        f'<text x="{MARGIN}" y="{MARGIN - 10}" font-size="11">{top} requests a slot at most; '
        f"refused in red</text>"
        f"{''.join(bars)}</svg>"
    )

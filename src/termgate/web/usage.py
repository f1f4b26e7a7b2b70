"""What the console's and the portal's usage pages share: the report, its charts, the CSV export.

Who may see what is decided by the caller (the console: anything; the portal: the signed-in
developer's own applications), through the `UsageQuery` it builds.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from termgate.governance.analytics import (
    OBJECTS_READ,
    PERCENTILES,
    UsageQuery,
    UsageReport,
    per_operation_and_period,
    usage_report,
)
from termgate.governance.usage_filters import filter_values
from termgate.web.charts import Series, bar_chart, column_chart

CSV_TYPE = "text/csv; charset=utf-8"
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def charts(report: UsageReport) -> dict[str, Markup]:
    labels = [row.period for row in report.over_time]
    unit = "per hour" if report.query.granularity == "hour" else "per day"
    operations = [row for row in report.per_operation if row.latency]
    return {
        "traffic": column_chart(
            "traffic",
            f"Requests and refusals {unit}",
            labels,
            [
                Series("requests", [row.counts.requests for row in report.over_time], "requests"),
                Series("refusals", [row.counts.refusals for row in report.over_time], "refusals"),
            ],
            "requests",
        ),
        "latency": bar_chart(
            "latency",
            "Latency per operation (p50 and p99)",
            [row.operation for row in operations],
            [
                Series(name, [row.latency[name] for row in operations], f"latency-{name}")
                for name in PERCENTILES
            ],
            "ms",
        ),
    }


async def usage_context(session: AsyncSession, query: UsageQuery, csv_path: str) -> dict[str, Any]:
    """The template's context: the report, its charts, the filters and the export's link."""
    report = await usage_report(session, query)
    values = filter_values(query)
    return {
        "report": report,
        "charts": charts(report),
        "filters": values,
        "csv_link": f"{csv_path}?{urlencode(values)}",
        "objects_read": list(OBJECTS_READ),
        "percentiles": list(PERCENTILES),
    }


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


async def usage_csv(session: AsyncSession, query: UsageQuery, name: str) -> Response:
    """One row per operation per period with requests, as a download."""
    rows = await per_operation_and_period(session, query)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            query.granularity,
            "operation",
            "requests",
            "refusals",
            "bytes_in",
            "bytes_out",
            *(f"distinct_{name}" for name in OBJECTS_READ),
            *(f"latency_{name}_ms" for name in PERCENTILES),
            "estimated",  # the distinct counts and latencies are the sketches' (analytics.md)
        ]
    )
    for row in rows:
        counts = row.counts
        writer.writerow(
            [
                row.period,
                _cell(row.operation),
                counts.requests,
                counts.refusals,
                counts.bytes_in,
                counts.bytes_out,
                *(counts.distinct[key] for key in OBJECTS_READ),
                *(f"{row.latency[key]:.3f}" if row.latency else "" for key in PERCENTILES),
                "true" if counts.estimated else "false",
            ]
        )
    since, until = query.since.strftime("%Y%m%dT%H%M"), query.until.strftime("%Y%m%dT%H%M")
    return Response(
        buffer.getvalue(),
        media_type=CSV_TYPE,
        headers={
            "content-disposition": f'attachment; filename="{name}-{since}-{until}.csv"',
            "cache-control": "no-store",
        },
    )

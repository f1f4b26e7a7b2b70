"""`termgate detect report`'s work: the findings of a simulated run read from its database and
scored against its labels, as lines of a table."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.monitoring.findings import list_findings
from termgate.simulate.labels import RunLabels
from termgate.simulate.score import Report, Seen, score


async def findings_of_run(session: AsyncSession, labels: RunLabels) -> list[Seen]:
    """Every finding seen since the run's simulated start, whatever its state now."""
    since = datetime.fromisoformat(labels.origin)
    return [
        Seen(
            f.detector,
            f.severity,
            f.developer_id,
            f.application_id,
            f.key_id,
            f.first_seen,
            f.summary,
        )
        for f in await list_findings(session, since=since)
    ]


async def report_of_run(session: AsyncSession, labels: RunLabels) -> Report:
    return score(labels, await findings_of_run(session, labels))


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _span(value: timedelta | None) -> str:
    if value is None:
        return "-"
    hours = value.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def table_rows(report: Report) -> list[tuple[str, ...]]:
    return [
        (
            s.detector,
            str(s.true_positives),
            str(s.false_positives),
            str(s.false_negatives),
            _ratio(s.precision),
            _ratio(s.recall),
            _span(s.median_detection),
        )
        for s in report.scores
    ]


HEADERS = ("detector", "TP", "FP", "FN", "precision", "recall", "median time to detection")

"""Harvest (clause 3.3 d): reading far more people than the declared use case implies.

Per application over the window: how many distinct employees and companies it read, for how many
end users (the logins that consented), how often it re-read the same employees, how many of them it
had never read before (a walk through the identifiers), and which data categories it read. Against:
what its declared use case and expected end users imply, and its own history. Signals:

- breadth: distinct employees per end user served far above what one login's customers employ;
- re-reads: every employee read again many times a day (a nightly sync reads each once);
- walk: most employees read are new to the application, day after day, long after its start;
- repeated full reads: the same employees' records read again on several of the last days, most of
  all it reads, by an application whose declared use case is not a synchronisation (a birthday
  screen or a helpdesk needs a record once, or when someone opens it; a nightly sync re-reads);
- categories: data read that the declared use case does not mention (a minor finding alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from termgate.monitoring.findings import FindingDraft
from termgate.monitoring.policy import DetectorPolicy
from termgate.monitoring.window import Party, Window, share

NAME = "harvest"


@dataclass(frozen=True)
class ReadVolume:
    party: Party
    employee_reads: int  # successful reads naming an employee
    distinct_employees: int
    distinct_companies: int
    end_users: int  # distinct end users the reads were made for
    expected_end_users: int | None  # as declared by the application
    new_employees: int  # distinct employees never read by the application before the window
    known_employees: int  # distinct employees it read in its history before the window
    age_days: float  # since the application's first recorded request
    categories_read: frozenset[str] = frozenset()
    categories_declared: frozenset[str] | None = None  # None: the use case does not say
    sample_request_ids: list[str] = field(default_factory=list)
    use_case: str = ""
    # Over the repeat look-back (the window and the days before it): how many distinct employees
    # were read individually on exactly N distinct days, N -> count.
    days_read: dict[int, int] = field(default_factory=dict)
    days_looked: int = 0  # the length of that look-back, in days


# Words of a declared use case that make re-reading every record on schedule part of the use.
SYNC_WORDS = ("sync", "synchron", "in step", "nightly", "each night", "replicat", "mirror")


def declares_sync(use_case: str) -> bool:
    text = use_case.lower()
    return any(word in text for word in SYNC_WORDS)


def _per_end_user(row: ReadVolume, policy: DetectorPolicy) -> float:
    """Records one consenting login plausibly needs a day: a declared synchronisation copies its
    customers' whole staff, any other use case what people open."""
    if declares_sync(row.use_case):
        return policy.value("sync_employees_per_end_user")
    return policy.value("employees_per_end_user")


def _breadth(row: ReadVolume, policy: DetectorPolicy) -> str | None:
    served = max(row.end_users, 1)
    per_end_user = _per_end_user(row, policy) / policy.sensitivity
    if row.distinct_employees >= policy.at_least("min_employees") and (
        row.distinct_employees > per_end_user * served
    ):
        return (
            f"read {row.distinct_employees} distinct employees of {row.distinct_companies} "
            f"companies for {row.end_users} end user(s), above the "
            f"{per_end_user:.0f} per end user the use case implies"
        )
    return None


def _rereads(row: ReadVolume, policy: DetectorPolicy, window: Window) -> str | None:
    if row.distinct_employees < policy.value("min_reread_employees"):
        return None
    per_day = row.employee_reads / row.distinct_employees / window.days
    if per_day >= policy.at_least("rereads_per_day"):
        return (
            f"re-read each of {row.distinct_employees} employees {per_day:.1f} times a day "
            f"(the use case needs about one)"
        )
    return None


def _repeated(row: ReadVolume, policy: DetectorPolicy) -> str | None:
    if declares_sync(row.use_case) or not row.days_read:
        return None
    days = int(policy.value("repeat_days"))
    repeated = sum(count for n, count in row.days_read.items() if n >= days)
    read = sum(row.days_read.values())
    if repeated >= policy.at_least("min_repeat_employees") and share(
        repeated, read
    ) >= policy.value("repeat_share"):
        return (
            f"read the records of {repeated} of the {read} employees it read on {days} or more "
            f"of the last {row.days_looked} days, again and again; the "
            "declared use case is not a synchronisation and needs a record about once"
        )
    return None


def _walk(row: ReadVolume, policy: DetectorPolicy) -> str | None:
    settled = row.age_days >= policy.value("settled_after_days")
    novel = share(row.new_employees, row.distinct_employees)
    if (
        settled
        and row.new_employees >= policy.at_least("min_new_employees")
        and novel >= policy.value("new_share")
        and row.known_employees >= row.new_employees * policy.value("walk_history_ratio")
    ):
        return (
            f"{row.new_employees} of {row.distinct_employees} employees read were new to the "
            f"application ({row.known_employees} read before): a walk through the identifiers"
        )
    return None


def _categories(row: ReadVolume) -> str | None:
    if row.categories_declared is None:
        return None
    extra = sorted(row.categories_read - row.categories_declared)
    if extra:
        return f"read data the declared use case does not mention: {', '.join(extra)}"
    return None


def _critical(row: ReadVolume, policy: DetectorPolicy) -> bool:
    return row.distinct_employees >= policy.critical("critical_employees") and (
        row.distinct_employees / max(row.end_users, 1)
        >= policy.critical("critical_employees_per_end_user")
    )


def detect(
    rows: Sequence[ReadVolume], policy: DetectorPolicy, window: Window
) -> list[FindingDraft]:
    drafts = []
    for row in rows:
        signals = [
            signal
            for signal in (
                _breadth(row, policy),
                _rereads(row, policy, window),
                _repeated(row, policy),
                _walk(row, policy),
            )
            if signal
        ]
        category = _categories(row)
        if not signals and category is None:
            continue
        severity = policy.severity if signals else "minor"
        if signals and _critical(row, policy):
            severity = "critical"
        evidence = window.evidence(
            employee_reads=row.employee_reads,
            distinct_employees=row.distinct_employees,
            distinct_companies=row.distinct_companies,
            end_users=row.end_users,
            expected_end_users=row.expected_end_users,
            new_employees=row.new_employees,
            known_employees=row.known_employees,
            categories_read=sorted(row.categories_read),
            employees_by_days_read={str(n): c for n, c in sorted(row.days_read.items())},
            sample_request_ids=row.sample_request_ids[:10],
        )
        drafts.append(
            FindingDraft(
                detector=NAME,
                clause=policy.clause,
                severity=severity,
                developer_id=row.party.developer_id,
                application_id=row.party.application_id,
                key_id=row.party.key_id,
                subject=f"{NAME}:employees" if signals else f"{NAME}:categories",
                summary="; ".join([*signals, *([category] if category else [])]),
                evidence=evidence,
            )
        )
    return drafts

"""Scoring: the detectors' findings against the labels of a run.

Per detector and scenario: a labelled scenario the detector found is a true positive, one it
missed a false negative; a finding about a scenario whose label neither expects nor tolerates
that detector is a false positive (counted once per scenario, however many findings). The time to
detection is from the misbehaviour's start to the detector's first finding about that party, in
simulated time. A critical finding about an honest party fails the run.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from termgate.simulate.labels import PartyLabel, RunLabels


@dataclass(frozen=True)
class Seen:
    """A finding as the scoring reads it."""

    detector: str
    severity: str
    developer_id: str | None
    application_id: str | None
    key_id: str | None
    first_seen: datetime
    summary: str = ""


@dataclass(frozen=True)
class DetectorScore:
    detector: str
    true_positives: int
    false_positives: int
    false_negatives: int
    detection_times: tuple[timedelta, ...]

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else None

    @property
    def median_detection(self) -> timedelta | None:
        if not self.detection_times:
            return None
        return timedelta(seconds=statistics.median(t.total_seconds() for t in self.detection_times))


@dataclass(frozen=True)
class Report:
    scores: list[DetectorScore]
    honest_critical: list[tuple[str, Seen]]  # (scenario, finding)
    false_alarms: list[tuple[str, Seen]]
    missed: list[tuple[str, str]]  # (scenario, detector)
    unattributed: int  # findings about parties no scenario played
    not_run: list[str]  # detectors the labels expect that the run did not have


def belongs(finding: Seen, party: PartyLabel) -> bool:
    return (
        finding.developer_id == party.developer_id
        or finding.application_id in party.application_ids
        or finding.key_id in party.key_ids
    )


def score(labels: RunLabels, findings: list[Seen]) -> Report:
    wanted = {d for party in labels.parties for d in party.detectors}
    seen = {f.detector for f in findings}
    ran = set(labels.detectors_run) if labels.detectors_run else wanted | seen
    detectors = sorted((wanted & ran) | seen)
    by_party = {p.scenario: [f for f in findings if belongs(f, p)] for p in labels.parties}
    attributed = {id(f) for found in by_party.values() for f in found}
    scores, false_alarms, missed = [], [], []
    for detector in detectors:
        hits = misses = alarms = 0
        times = []
        for party in labels.parties:
            found = [f for f in by_party[party.scenario] if f.detector == detector]
            if detector in party.detectors:
                if found:
                    hits += 1
                    start = party.started()
                    if start is not None:
                        first = min(f.first_seen for f in found)
                        times.append(max(first - start, timedelta(0)))
                else:
                    misses += 1
                    missed.append((party.scenario, detector))
            elif found and detector not in party.tolerated:
                alarms += 1
                false_alarms += [(party.scenario, f) for f in found]
        scores.append(DetectorScore(detector, hits, alarms, misses, tuple(times)))
    critical = [
        (party.scenario, f)
        for party in labels.parties
        if party.honest
        for f in by_party[party.scenario]
        if f.severity == "critical"
    ]
    unattributed = sum(1 for f in findings if id(f) not in attributed)
    return Report(scores, critical, false_alarms, missed, unattributed, sorted(wanted - ran - seen))


def combine(reports: list[Report], tags: list[str] | None = None) -> Report:
    """Several runs (seeds) as one: per detector the sums of hits, false alarms and misses and
    every time to detection, so precision and recall are over all the runs' parties. `tags`
    (one per run) prefix its scenario names, which repeat from run to run."""
    names = tags or [""] * len(reports)
    totals: dict[str, list[DetectorScore]] = {}
    for report in reports:
        for one in report.scores:
            totals.setdefault(one.detector, []).append(one)
    scores = [
        DetectorScore(
            detector,
            sum(s.true_positives for s in parts),
            sum(s.false_positives for s in parts),
            sum(s.false_negatives for s in parts),
            tuple(t for s in parts for t in s.detection_times),
        )
        for detector, parts in sorted(totals.items())
    ]
    not_run = sorted({d for r in reports for d in r.not_run} - set(totals))
    return Report(
        scores,
        [(tag + s, f) for tag, r in zip(names, reports, strict=True) for s, f in r.honest_critical],
        [(tag + s, f) for tag, r in zip(names, reports, strict=True) for s, f in r.false_alarms],
        [(tag + s, d) for tag, r in zip(names, reports, strict=True) for s, d in r.missed],
        sum(r.unattributed for r in reports),
        not_run,
    )

"""Scoring a run (`termgate detect report`) on hand-made findings and labels: precision, recall,
time to detection, tolerated detectors, and critical findings about honest parties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from termgate.simulate.labels import LabelsError, PartyLabel, RunLabels
from termgate.simulate.score import Seen, score

START = datetime(2027, 3, 1, tzinfo=UTC)


def party(name: str, honest: bool, detectors: tuple[str, ...] = (), tolerated: tuple[str, ...] = (),
          start_hours: float = 0.0) -> PartyLabel:  # fmt: skip
    return PartyLabel(
        scenario=name,
        kind=name.rsplit("-", 1)[0],
        honest=honest,
        clause="" if honest else "3.3 d",
        detectors=list(detectors),
        tolerated=list(tolerated),
        misbehaviour_start=None if honest else (START + timedelta(hours=start_hours)).isoformat(),
        developer_id=f"dev-{name}",
        application_ids=[f"app-{name}"],
        key_ids=[f"key-{name}"],
    )


def run_of(*parties: PartyLabel) -> RunLabels:
    return RunLabels(1, 30, 1.0, 1, 400, "sqlite+aiosqlite:///x", START.isoformat(),
                     (START + timedelta(days=30)).isoformat(), 1.0, 120, list(parties))  # fmt: skip


def seen(detector: str, app: str | None, hours: float, severity: str = "major",
         developer: str | None = None) -> Seen:  # fmt: skip
    return Seen(detector, severity, developer, app, None, START + timedelta(hours=hours))


def test_clause_4_1_report_counts_hits_misses_and_false_alarms_per_detector() -> None:
    labels = run_of(
        party("harvester-1", False, ("harvest",), start_hours=10),
        party("harvester-2", False, ("harvest",), start_hours=0),
        party("harvester-3", False, ("harvest",)),
        party("sync-1", True),
        party("sync-2", True),
        party("prober-1", False, ("probing",), tolerated=("harvest",)),
    )
    findings = [
        seen("harvest", "app-harvester-1", 16),
        seen("harvest", "app-harvester-1", 40),  # the same party again: one hit, first counts
        seen("harvest", None, 30, developer="dev-harvester-2"),  # by developer
        seen("harvest", "app-sync-1", 5),  # a false alarm
        seen("harvest", "app-prober-1", 3),  # tolerated: neither hit nor alarm
        seen("probing", "app-prober-1", 2),
        seen("probing", "app-nobody", 2),  # a party no scenario played
    ]
    report = score(labels, findings)
    by_name = {s.detector: s for s in report.scores}
    harvest = by_name["harvest"]
    assert (harvest.true_positives, harvest.false_positives, harvest.false_negatives) == (2, 1, 1)
    assert harvest.precision == pytest.approx(2 / 3)
    assert harvest.recall == pytest.approx(2 / 3)
    # 6 h after harvester-1 began, 30 h after harvester-2 began: the median is 18 h.
    assert harvest.median_detection == timedelta(hours=18)
    probing = by_name["probing"]
    assert (probing.precision, probing.recall) == (1.0, 1.0)
    assert report.missed == [("harvester-3", "harvest")]
    assert [(name, f.detector) for name, f in report.false_alarms] == [("sync-1", "harvest")]
    assert report.unattributed == 1
    assert report.honest_critical == []


def test_clause_4_2_report_names_a_critical_finding_about_an_honest_party() -> None:
    labels = run_of(party("sync-1", True), party("harvester-1", False, ("harvest",)))
    findings = [
        seen("stability", "app-sync-1", 3, severity="critical"),
        seen("harvest", "app-harvester-1", 3, severity="critical"),  # a misuser's: fine
    ]
    report = score(labels, findings)
    assert [(name, f.detector) for name, f in report.honest_critical] == [("sync-1", "stability")]
    stability = {s.detector: s for s in report.scores}["stability"]
    assert stability.precision == 0.0
    assert stability.recall is None  # no scenario expects it: nothing to recall


def test_clause_4_1_report_without_findings_has_no_precision_and_zero_recall() -> None:
    report = score(run_of(party("harvester-1", False, ("harvest",))), [])
    (harvest,) = report.scores
    assert harvest.precision is None
    assert harvest.recall == 0.0
    assert harvest.median_detection is None


def test_clause_4_1_labels_round_trip_and_a_bad_file_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    labels = run_of(party("harvester-1", False, ("harvest",), start_hours=3))
    path = tmp_path / "labels.json"
    labels.write(path)
    assert RunLabels.read(path) == labels
    path.write_text('{"seed": 1}')
    with pytest.raises(LabelsError, match="not a labels file"):
        RunLabels.read(path)
    with pytest.raises(LabelsError, match="no labels file"):
        RunLabels.read(tmp_path / "missing.json")


def test_clause_4_1_report_leaves_out_detectors_the_run_did_not_have() -> None:
    labels = run_of(
        party("harvester-1", False, ("harvest",)), party("prober-1", False, ("probing",))
    )
    labels.detectors_run = ["probing"]
    report = score(labels, [seen("probing", "app-prober-1", 1)])
    assert [s.detector for s in report.scores] == ["probing"]
    assert report.not_run == ["harvest"]
    assert report.missed == []


def test_clause_4_1_several_runs_are_scored_together_summing_hits_alarms_and_misses() -> None:
    from termgate.simulate.score import combine

    first = score(
        run_of(party("harvester-1", False, ("harvest",)), party("sync-1", True)),
        [seen("harvest", "app-harvester-1", 4), seen("harvest", "app-sync-1", 5)],
    )
    second = score(
        run_of(party("harvester-1", False, ("harvest",)), party("sync-1", True)),
        [seen("harvest", "app-harvester-1", 2), seen("harvest", "app-sync-1", 1, "critical")],
    )
    third = score(run_of(party("harvester-1", False, ("harvest",))), [])
    both = combine([first, second, third], ["seed 1: ", "seed 2: ", "seed 3: "])
    [harvest] = both.scores
    assert (harvest.true_positives, harvest.false_positives, harvest.false_negatives) == (2, 2, 1)
    assert harvest.precision == 0.5
    assert harvest.recall == 2 / 3
    assert harvest.median_detection == timedelta(hours=3)
    assert both.missed == [("seed 3: harvester-1", "harvest")]
    assert [name for name, _ in both.false_alarms] == ["seed 1: sync-1", "seed 2: sync-1"]
    assert [name for name, _ in both.honest_critical] == ["seed 2: sync-1"]

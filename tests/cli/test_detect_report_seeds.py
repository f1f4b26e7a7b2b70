"""`termgate detect report` over several runs (seeds): one table summing the runs, each miss
named with its seed, and a labels file that cannot be read refused in one line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from termgate.cli import app
from termgate.db.models import new_id
from termgate.simulate.labels import PartyLabel, RunLabels


def labels(path: Path, seed: int, database_url: str) -> Path:
    prober = PartyLabel(
        scenario="prober-1",
        kind="prober",
        honest=False,
        clause="3.3 c",
        detectors=["probing"],
        tolerated=[],
        misbehaviour_start="2099-01-01T00:00:00+00:00",
        developer_id=new_id(),
        application_ids=[new_id()],
        key_ids=[new_id()],
    )
    run = RunLabels(
        seed, 3, 0.5, 1, 2000, database_url, "2099-01-01T00:00:00+00:00",
        "2099-01-04T00:00:00+00:00", 1.0, 12, [prober], ["probing"],
    )  # fmt: skip
    run.write(path)
    return path


def test_clause_4_1_report_scores_several_seeds_together(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    first = labels(tmp_path / "a.json", 3, database_url)
    second = labels(tmp_path / "b.json", 4, database_url)
    result = cli.invoke(app, ["detect", "report", "--labels", str(first), "--labels", str(second)])
    assert result.exit_code == 0, result.output
    assert "2 runs (seeds 3, 4), 6 simulated days" in result.output
    row = next(line for line in result.output.splitlines() if "probing" in line and "│" in line)
    assert [cell.strip() for cell in row.split("│")[1:5]] == ["probing", "0", "0", "2"]
    assert "missed: seed 3: prober-1 (probing)" in result.output
    assert "missed: seed 4: prober-1 (probing)" in result.output
    assert "honest parties with a critical finding: 0" in result.output

    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    refused = cli.invoke(app, ["detect", "report", "--labels", str(first), "--labels", str(broken)])
    assert refused.exit_code == 1
    assert "broken.json is not a labels file" in refused.stderr
    assert "Traceback" not in refused.output + refused.stderr

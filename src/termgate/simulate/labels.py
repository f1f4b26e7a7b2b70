"""The labels of a run: which party played which scenario, honest or which misuse, which
detectors should find it and since when, and what its traffic was. `termgate simulate` writes
them (JSON) and `termgate detect report` scores the findings against them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


class LabelsError(ValueError):
    """A labels file that cannot be read; the message says what is wrong."""


@dataclass
class PartyLabel:
    scenario: str
    kind: str
    honest: bool
    clause: str
    detectors: list[str]
    tolerated: list[str]
    misbehaviour_start: str | None  # ISO 8601, simulated time
    developer_id: str
    application_ids: list[str]
    key_ids: list[str]
    requests: int = 0  # everything the party did: calls, sign-ins, new keys
    gateway_calls: int = 0  # requests through the gateway (each one a usage event)
    statuses: dict[str, int] = field(default_factory=dict)
    usage_events: int = 0

    def started(self) -> datetime | None:
        return datetime.fromisoformat(self.misbehaviour_start) if self.misbehaviour_start else None


@dataclass
class RunLabels:
    seed: int
    days: int
    scale: float
    copies: int
    employees: int
    database_url: str
    origin: str  # ISO 8601: the simulated start
    end: str  # ISO 8601: the simulated end
    wall_seconds: float
    detection_passes: int
    parties: list[PartyLabel]
    detectors_run: list[str] = field(default_factory=list)  # the detectors installed

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        path.chmod(0o600)  # it names the database, perhaps with a password

    @classmethod
    def read(cls, path: Path) -> RunLabels:
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
            parties = [PartyLabel(**party) for party in raw.pop("parties")]
            return cls(**raw, parties=parties)
        except FileNotFoundError:
            raise LabelsError(f"no labels file {path} (run `termgate simulate` first)") from None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise LabelsError(
                f"{path} is not a labels file of `termgate simulate`: {error}"
            ) from None

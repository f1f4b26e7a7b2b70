"""The detectors' policy: the `[detector.NAME]` tables of `terms/policy.toml`.

Each table names the detector's clause, its default severity, its mode (`enforce`: a critical
finding suspends the party; `simulate`: findings are recorded and nothing is enforced), the window
it looks back over, a sensitivity, and its thresholds. Sensitivity scales the thresholds that open
an ordinary finding (`at_least`: the threshold divided by it, so 2.0 fires at half the volume);
the critical thresholds (`critical`) are never scaled, so tuning sensitivity cannot make a
detector suspend honest traffic.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from termgate.registry.clauses import PolicyError, load_policy

MODES = ("enforce", "simulate")
SEVERITIES = ("info", "minor", "major", "critical")
KNOWN_KEYS = {"clause", "severity", "mode", "window_minutes", "every_minutes", "sensitivity"}


@dataclass(frozen=True)
class DetectorPolicy:
    name: str
    clause: str
    severity: str
    mode: str
    window: timedelta
    every: timedelta  # at most one pass of this detector so often (zero: every pass)
    sensitivity: float
    thresholds: Mapping[str, float]

    @property
    def simulated(self) -> bool:
        return self.mode == "simulate"

    def value(self, key: str) -> float:
        try:
            return self.thresholds[key]
        except KeyError:
            raise PolicyError(f"[detector.{self.name}] lacks the threshold {key!r}") from None

    def at_least(self, key: str) -> float:
        """An ordinary finding's threshold, scaled by the sensitivity."""
        return self.value(key) / self.sensitivity

    def critical(self, key: str) -> float:
        """A critical threshold, as written (never scaled)."""
        return self.value(key)


def _detector(path: Path, name: str, entry: dict[str, Any], clauses: set[str]) -> DetectorPolicy:
    where = f"{path}: [detector.{name}]"
    clause = str(entry.get("clause", ""))
    if clause not in clauses:
        raise PolicyError(f"{where}: clause {clause!r} is not a clause of the terms")
    severity = str(entry.get("severity", "major"))
    if severity not in SEVERITIES:
        raise PolicyError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    mode = str(entry.get("mode", "enforce"))
    if mode not in MODES:
        raise PolicyError(f"{where}: mode {mode!r} is not one of {', '.join(MODES)}")
    try:
        window = float(entry.get("window_minutes", 60))
        every = float(entry.get("every_minutes", 0))
        sensitivity = float(entry.get("sensitivity", 1.0))
        thresholds = {key: float(value) for key, value in entry.items() if key not in KNOWN_KEYS}
    except (TypeError, ValueError) as error:
        raise PolicyError(f"{where}: a threshold is not a number ({error})") from None
    if not 0 < window <= 60 * 24 * 366:
        raise PolicyError(f"{where}: window_minutes must be between 1 minute and a year")
    if not 0 <= every <= 60 * 24 * 31:
        raise PolicyError(f"{where}: every_minutes must be between 0 and a month")
    if not 0.1 <= sensitivity <= 10:
        raise PolicyError(f"{where}: sensitivity must be between 0.1 and 10")
    return DetectorPolicy(
        name,
        clause,
        severity,
        mode,
        timedelta(minutes=window),
        timedelta(minutes=every),
        sensitivity,
        thresholds,
    )


@lru_cache(maxsize=4)
def load_detector_policies(terms_dir: Path) -> dict[str, DetectorPolicy]:
    path = terms_dir / "policy.toml"
    clauses = set(load_policy(terms_dir).clauses)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"cannot read the terms policy {path}: {error}") from None
    tables = data.get("detector", {})
    if not isinstance(tables, dict):
        raise PolicyError(f"{path}: [detector] must be tables [detector.NAME]")
    return {name: _detector(path, name, entry, clauses) for name, entry in tables.items()}

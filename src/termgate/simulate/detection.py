"""The detectors a simulation runs: one pass of every detector at a simulated time, in
simulation mode (findings recorded, nothing enforced)."""

from __future__ import annotations

from termgate.simulate.runner import DetectionPass


def detection_pass() -> DetectionPass | None:
    """The detectors' pass, or None where no detector is installed yet."""
    return None

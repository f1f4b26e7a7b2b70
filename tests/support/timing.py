"""How long a test may wait for a promise measured in wall-clock time.

The terms promise that an access change reaches every node within a second. On a machine with a
core to spare that is what the tests hold the product to. On a machine running more runnable tasks
than it has cores (the suite beside a benchmark and a demo, say) every process gets its share of
the CPU later, so every wait stretches by about that factor; the bound stretches with it instead of
failing for a reason the product cannot change.
"""

from __future__ import annotations

import os


def within(seconds: float = 1.0) -> float:
    """`seconds`, stretched by the machine's load per core when it is above one."""
    load_per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return seconds * max(1.0, load_per_core)

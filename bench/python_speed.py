"""How fast the servers' core runs Python right now: one fixed piece of Python work, timed in CPU.

    uv run python bench/python_speed.py --samples 30   # a sample every 0.5 s, on CPU 1

A shared host can slow one core's Python down from one minute to the next (its neighbours take
the caches and memory bandwidth) while C servers such as nginx barely notice: on one 2-core KVM
machine this work took 15.9 to 35.4 ms of CPU within 30 s, idle. The ratio of the gateway to
nginx then moves with the host, not the code. `run.py` times this work on the servers' core
between its loads and prints the spread beside its goals; a run whose spread is wide compares
two versions of the code no better than that.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager


def fixed_work() -> int:
    """Dicts, strings and tuples: allocation and hashing, as a request path's Python is."""
    table: dict[str, tuple[int, str, list[int]]] = {}
    for number in range(20_000):
        table[str(number)] = (number, str(number * 2), [number])
    return sum(len(entry[1]) for entry in table.values())


@contextmanager
def pinned(cpu: int | None) -> Iterator[None]:
    """This thread on `cpu` (None: where it is), as it was afterwards."""
    if cpu is None:
        yield
        return
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def probe_ms(cpu: int | None) -> float:
    """The CPU milliseconds of `fixed_work` on `cpu`, the least of three tries."""
    tries = []
    with pinned(cpu):
        for _ in range(3):
            started = time.thread_time()
            fixed_work()
            tries.append((time.thread_time() - started) * 1000)
    return min(tries)


def spread(samples: list[float]) -> dict[str, float]:
    return {
        "min_ms": round(min(samples), 2),
        "median_ms": round(statistics.median(samples), 2),
        "max_ms": round(max(samples), 2),
        "max_over_min": round(max(samples) / min(samples), 2),
    }


def spread_line(samples: list[float]) -> str:
    figures = spread(samples)
    return (
        f"Python on the servers' core: a fixed piece of work took {figures['min_ms']:.1f}-"
        f"{figures['max_ms']:.1f} ms of CPU over {len(samples)} samples between the loads "
        f"(median {figures['median_ms']:.1f}, max/min {figures['max_over_min']:.2f}); "
        "ratios of runs whose spread is wide differ by the host, not only by the code"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--cpu", type=int, default=1 if (os.cpu_count() or 1) > 1 else None)
    args = parser.parse_args()
    samples = []
    for _ in range(args.samples):
        samples.append(probe_ms(args.cpu))
        time.sleep(args.interval)
    print(" ".join(f"{sample:.1f}" for sample in samples))
    print(spread_line(samples))


if __name__ == "__main__":
    main()

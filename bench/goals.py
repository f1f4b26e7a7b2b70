"""Issue 11's goals for the whole chain, judged on one run's medians (bench/run.py prints them).

The whole chain with in-process limits: at least 0.65 of nginx's requests per second, a p99
latency at most twice nginx's, and at most 70 µs of the gateway's CPU per request. The chain with
its counters in Redis is printed the same way (its proxy CPU includes the redis-server's); the
goals are set for the first.
"""

from __future__ import annotations

MIN_RPS_RATIO = 0.65
MAX_P99_RATIO = 2.0
MAX_PROXY_CPU_US = 70.0
CHAINS = (
    ("termgate", "whole chain (in-process limits)"),
    ("termgate-redis", "whole chain, Redis limits"),
)


def _mark(reached: bool) -> str:
    return "[green]reached[/]" if reached else "[red]not reached[/]"


def chain_figures(summary: dict[str, dict[str, float]], name: str) -> dict[str, float]:
    """One chain's rates and latencies next to nginx's, from the medians of a run."""
    chain, nginx = summary[name], summary["nginx"]
    return {
        "rps": chain["rps"],
        "rps_over_nginx": round(chain["rps"] / nginx["rps"], 3) if nginx["rps"] else 0.0,
        "p50_ms": chain["p50_ms"],
        "p99_ms": chain["p99_ms"],
        "p99_over_nginx": round(chain["p99_ms"] / nginx["p99_ms"], 3) if nginx["p99_ms"] else 0.0,
        "proxy_cpu_us": chain["proxy_cpu_us"],
    }


def goals(summary: dict[str, dict[str, float]]) -> dict[str, bool]:
    whole = chain_figures(summary, "termgate")
    return {
        "rps_over_nginx": whole["rps_over_nginx"] >= MIN_RPS_RATIO,
        "p99_over_nginx": whole["p99_over_nginx"] <= MAX_P99_RATIO,
        "proxy_cpu_us": whole["proxy_cpu_us"] <= MAX_PROXY_CPU_US,
    }


def goal_lines(summary: dict[str, dict[str, float]]) -> list[str]:
    """Rich-marked lines: each chain's figures, and whether the first meets the goals."""
    nginx = summary["nginx"]
    lines = [
        f"nginx proxy: {nginx['rps']:,.0f} req/s, p50 {nginx['p50_ms']:.2f} ms, "
        f"p99 {nginx['p99_ms']:.2f} ms, proxy CPU {nginx['proxy_cpu_us']:.0f} µs/request"
    ]
    for name, label in CHAINS:
        figures = chain_figures(summary, name)
        lines.append(
            f"{label}: {figures['rps']:,.0f} req/s = [bold]{figures['rps_over_nginx']:.2f}[/] "
            f"x nginx; p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms = "
            f"[bold]{figures['p99_over_nginx']:.2f}[/] x nginx's; proxy CPU "
            f"[bold]{figures['proxy_cpu_us']:.0f}[/] µs/request"
        )
    reached = goals(summary)
    lines.append(
        f"goals of the whole chain: req/s >= {MIN_RPS_RATIO} x nginx "
        f"{_mark(reached['rps_over_nginx'])}; p99 <= {MAX_P99_RATIO:g} x nginx's "
        f"{_mark(reached['p99_over_nginx'])}; proxy CPU <= {MAX_PROXY_CPU_US:g} µs/request "
        f"{_mark(reached['proxy_cpu_us'])}"
    )
    return lines

"""Clause 4.1: the usage charts are well-formed SVG with accessible titles, bars to scale, and
every text escaped (operation names come from the API's description)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from termgate.web.charts import Series, bar_chart, column_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def test_clause_4_1_axis_tops_are_round_figures_at_least_the_highest_value() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 10, 11, 240, 2600)] == [
        1.0,
        1.0,
        5.0,
        10.0,
        10.0,
        20.0,
        250.0,
        5000.0,
    ]


def test_clause_4_1_column_chart_draws_each_period_to_scale_with_its_figures() -> None:
    labels = ["2026-11-29 10", "2026-11-29 11", "2026-11-29 12"]
    svg = column_chart(
        "traffic",
        "Requests and refusals per hour",
        labels,
        [Series("requests", [10, 0, 20], "requests"), Series("refusals", [5, 0, 0], "refusals")],
        "requests",
    )
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Requests and refusals per hour"
    bars = [bar for bar in root.iter(f"{SVG}rect") if bar.find(f"{SVG}title") is not None]
    heights = [float(bar.get("height")) for bar in bars if bar.get("class") == "requests"]
    assert heights[2] == 2 * heights[0]
    assert heights[1] == 0
    assert bars[0].find(f"{SVG}title").text == "2026-11-29 10: 10 requests, 5 refusals"
    assert "30 requests, 5 refusals" in root.find(f"{SVG}desc").text


def test_clause_4_1_chart_texts_are_escaped() -> None:
    hostile = "/api/<script>alert(1)</script>&"
    svg = str(bar_chart("latency", "Latency <p50>", [hostile], [Series("p50", [3.5], "p50")], "ms"))
    assert "<script>" not in svg
    root = ElementTree.fromstring(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == "Latency <p50>"
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert hostile in texts

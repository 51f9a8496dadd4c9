"""`audit report`: one self-contained HTML file (inline CSS and SVG charts
rendered locally by matplotlib; no script, font or CDN), readable offline."""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from matplotlib import rcParams
from matplotlib.figure import Figure

from keeper.audit.history import History
from keeper.audit.show import Section, table_rows
from keeper.audit.snapshot import Snapshot
from keeper.audit.verify import Finding

rcParams["svg.fonttype"] = "none"
rcParams["svg.hashsalt"] = "aistm7-audit"
_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; word-break: break-all; }
.violated { color: #b00; font-weight: bold; } .skipped { color: #888; } .ok { color: #070; }
figure { margin: 1em 0 2em; } figcaption { font-weight: bold; }
"""


@dataclass(frozen=True)
class Chart:
    """A chart and the points it was drawn from (also embedded as data)."""

    key: str
    title: str
    points: list[dict[str, Any]]
    svg: str


def _time(block_time: int) -> datetime:
    return datetime.fromtimestamp(block_time, timezone.utc)


def _svg(figure: Figure, over_time: bool = True) -> str:
    """The figure as inline SVG; time axes get slanted UTC date labels."""
    if over_time:
        figure.autofmt_xdate()
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = out.getvalue()
    return text[text.index("<svg") :]


def _time_span(axes: Any, times: list[Any]) -> None:
    """x limits around `times`, at least a minute wide (events of one second
    would otherwise stretch the axis over years)."""
    if times:
        pad = max((times[-1] - times[0]) / 20, timedelta(seconds=30))
        axes.set_xlim(times[0] - pad, times[-1] + pad)


def price_chart(history: History, decimals: int) -> Chart:
    points: list[dict[str, Any]] = [
        {
            "time": e.block_time,
            "price_usd": float(Decimal(e.data["price"]).scaleb(e.data["expo"])),
            "required_tokens": float(Decimal(e.data["new"]).scaleb(-decimals)),
        }
        for e in history.named("RequirementUpdated")
        if e.block_time is not None
    ]
    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    times: list[Any] = [_time(p["time"]) for p in points]
    axes.plot(times, [p["price_usd"] for p in points], "o-", color="tab:blue", label="price (USD)", drawstyle="steps-post")
    axes.set_ylabel("price (USD)")
    other = axes.twinx()
    other.plot(times, [p["required_tokens"] for p in points], "s--", color="tab:orange", drawstyle="steps-post")
    other.set_ylabel("requirement (tokens)")
    _time_span(axes, times)
    return Chart("price-requirement", "Price and requirement over time", points, _svg(figure))


def revenue_chart(history: History) -> Chart:
    points: list[dict[str, Any]] = []
    revenue = spent = 0
    for e in history.events:
        if e.block_time is None or e.name not in ("RevenueReported", "BuyOrderOpened"):
            continue
        if e.name == "RevenueReported":
            revenue = e.data["totals"]["total"]
        else:
            spent += e.data["zar_allocated_cents"]
        points.append({"time": e.block_time, "revenue_zar": revenue / 100, "buy_orders_zar": spent / 100})
    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    times: list[Any] = [_time(p["time"]) for p in points]
    axes.plot(times, [p["revenue_zar"] for p in points], "o-", label="revenue reported", drawstyle="steps-post")
    axes.plot(times, [p["buy_orders_zar"] for p in points], "s-", label="allocated to buy-orders", drawstyle="steps-post")
    axes.set_ylabel("ZAR, cumulative")
    axes.legend(loc="upper left")
    _time_span(axes, times)
    return Chart("revenue-spend", "Revenue vs buy-order spend", points, _svg(figure))


def fees_chart(s: Snapshot) -> Chart:
    decimals = s.config.mint_decimals
    points: list[dict[str, Any]] = [
        {"service": f.name, "count": f.count, "total_tokens": float(Decimal(f.total).scaleb(-decimals))}
        for f in s.fee_schedule or []
    ]
    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    axes.bar([p["service"] for p in points], [p["total_tokens"] for p in points], color="tab:green")
    axes.set_ylabel("fees paid (tokens)")
    return Chart("fees-by-service", "Fees by service", points, _svg(figure, over_time=False))


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>none</p>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if row.get(c) is None else str(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _chart(chart: Chart) -> str:
    data = html.escape(json.dumps(chart.points), quote=True)
    return (
        f'<figure class="chart" id="{chart.key}" data-points="{data}"><figcaption>{html.escape(chart.title)}</figcaption>'
        f"{chart.svg}<details><summary>data points</summary>{_table(chart.points)}</details></figure>"
    )


def render(s: Snapshot, shown: dict[str, Section], history: History, findings: list[Finding]) -> str:
    charts = [price_chart(history, s.config.mint_decimals), revenue_chart(history), fees_chart(s)]
    checks = "".join(
        f'<tr><td>{html.escape(f.invariant)}</td><td class="{f.status}">{f.status}</td><td>{html.escape(f.detail)}</td></tr>'
        for f in findings
    )
    tables = "".join(f"<h3>{html.escape(name)}</h3>{_table(table_rows(section))}" for name, section in shown.items())
    events = [
        {"time": e.block_time, "kind": e.kind, "event": e.name, "signature": e.signature, "data": json.dumps(e.data)}
        for e in history.events
    ]
    generated = _time(s.cluster_time).isoformat()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AISTM7 audit report, slot {s.slot}</title>
<style>{_STYLE}</style></head><body>
<h1>AISTM7 audit report</h1>
<p>Program {s.program_id}, read at slot {s.slot} (cluster time {generated}).
History {"complete since initialize" if history.complete else "incomplete"}: {len(history.events)} event(s).</p>
<h2>Invariants</h2><table><tr><th>invariant</th><th>status</th><th>detail</th></tr>{checks}</table>
<h2>Charts</h2>{"".join(_chart(chart) for chart in charts)}
<h2>State</h2>{tables}
<h2>Events</h2>{_table(events)}
</body></html>
"""

// Small SVG charts: a price/requirement step chart with a threshold band and
// update markers, and stacked daily bars. Each has a text summary for screen readers.
import { h } from "./dom.js";

const W = 760;
const H = 260;
const PAD = { left: 64, right: 64, top: 14, bottom: 30 };

function scale(min, max, from, to) {
  const span = max - min || Math.abs(max) || 1;
  return (v) => from + ((v - min) / span) * (to - from);
}

function ticks(min, max, count) {
  const out = [];
  for (let i = 0; i <= count; i += 1) out.push(min + ((max - min) * i) / count);
  return out;
}

function label(v) {
  const a = Math.abs(v);
  return a >= 1000 ? Math.round(v).toLocaleString("en-US") : a >= 1 ? v.toFixed(2) : v.toPrecision(4);
}

/**
 * points: [{t (unix secs), price (number), required (number)}] of applied updates, oldest first;
 * bandBps: the update threshold; now: the cluster time (the last step runs to it).
 */
export function requirementChart(points, bandBps, now, summary) {
  const svg = h("svg:svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": summary });
  svg.append(h("svg:title", {}, summary));
  if (!points.length) {
    svg.append(h("svg:text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no applied update yet"));
    return svg;
  }
  const t0 = points[0].t;
  const t1 = Math.max(now, points[points.length - 1].t + 1);
  const band = bandBps / 10_000;
  const prices = points.flatMap((p) => [p.price * (1 - band), p.price * (1 + band)]);
  const reqs = points.map((p) => p.required);
  const [pMin, pMax] = [Math.min(...prices), Math.max(...prices)];
  const [rMin, rMax] = [Math.min(...reqs) * 0.98, Math.max(...reqs) * 1.02];
  const x = scale(t0, t1, PAD.left, W - PAD.right);
  const yp = scale(pMin, pMax, H - PAD.bottom, PAD.top);
  const yr = scale(rMin, rMax, H - PAD.bottom, PAD.top);
  for (const v of ticks(pMin, pMax, 4)) {
    svg.append(h("svg:line", { x1: PAD.left, x2: W - PAD.right, y1: yp(v), y2: yp(v), class: "grid-line" }));
    svg.append(h("svg:text", { x: PAD.left - 6, y: yp(v) + 4, "text-anchor": "end" }, "$" + label(v)));
  }
  for (const v of ticks(rMin, rMax, 4)) {
    svg.append(h("svg:text", { x: W - PAD.right + 6, y: yr(v) + 4 }, label(v)));
  }
  for (const t of ticks(t0, t1, 3)) {
    const at = new Date(t * 1000).toISOString().slice(11, t1 - t0 < 600 ? 19 : 16);
    svg.append(h("svg:text", { x: x(t), y: H - 8, "text-anchor": "middle" }, at));
  }
  // The band: a move inside it does not re-price.
  points.forEach((p, i) => {
    const end = i + 1 < points.length ? points[i + 1].t : t1;
    const top = yp(p.price * (1 + band));
    svg.append(h("svg:rect", { x: x(p.t), y: top, width: Math.max(1, x(end) - x(p.t)), height: yp(p.price * (1 - band)) - top, class: "band" }));
  });
  const step = (key, y) => points.map((p, i) => {
    const end = i + 1 < points.length ? points[i + 1].t : t1;
    return `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)} L${x(end).toFixed(1)},${y(p[key]).toFixed(1)}`;
  }).join(" ");
  svg.append(h("svg:path", { d: step("price", yp), class: "price-line" }));
  svg.append(h("svg:path", { d: step("required", yr), class: "req-line" }));
  for (const p of points) {
    const marker = h("svg:circle", { cx: x(p.t), cy: yp(p.price), r: 4, class: "marker" });
    marker.append(h("svg:title", {}, `update at ${new Date(p.t * 1000).toISOString()}: $${p.price} → ${p.required} tokens`));
    svg.append(marker);
  }
  return svg;
}

/** days: [{day, ...values}], keys: [[key, CSS class, label]]: stacked bars;
 * format(value) for tooltips, axis(value) for the short axis labels. */
export function dailyBars(days, keys, summary, format, axis) {
  const svg = h("svg:svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": summary });
  svg.append(h("svg:title", {}, summary));
  if (!days.length) {
    svg.append(h("svg:text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no revenue reported yet"));
    return svg;
  }
  const totals = days.map((d) => keys.reduce((sum, [key]) => sum + d[key], 0));
  const max = Math.max(...totals, 1);
  const y = scale(0, max, H - PAD.bottom, PAD.top);
  const slot = (W - PAD.left - PAD.right) / days.length;
  const bar = Math.min(48, slot * 0.7);
  for (const v of ticks(0, max, 4)) {
    svg.append(h("svg:line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid-line" }));
    svg.append(h("svg:text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, axis(v)));
  }
  days.forEach((d, i) => {
    let base = 0;
    const left = PAD.left + i * slot + (slot - bar) / 2;
    for (const [key, colour, name] of keys) {
      const top = y(base + d[key]);
      const rect = h("svg:rect", { x: left, y: top, width: bar, height: Math.max(0, y(base) - top), class: `bar ${colour}` });
      rect.append(h("svg:title", {}, `${d.day} ${name}: ${format(d[key])}`));
      svg.append(rect);
      base += d[key];
    }
    if (days.length <= 16 || i % Math.ceil(days.length / 8) === 0) {
      svg.append(h("svg:text", { x: left + bar / 2, y: H - 8, "text-anchor": "middle" }, d.day.slice(5)));
    }
  });
  return svg;
}

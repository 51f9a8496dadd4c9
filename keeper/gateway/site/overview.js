// Overview: the requirement and its price over time, breaker and pause,
// the keeper's health and job runs, and alerts.
import { LATEST } from "./api.js";
import { requirementChart } from "./chart.js";
import { card, fill, h, num, row, table, when } from "./dom.js";

const HISTORY = 100;

function pointOf(event) {
  const d = event.data;
  return { t: event.block_time || d.publish_time, price: Number(d.price) * 10 ** Number(d.expo), required: Number(d.new), seq: event.seq };
}

export async function mount(root, { api, decimals }) {
  const cards = h("div", { class: "grid", id: "overview-cards" });
  const chartBox = h("div", { id: "requirement-chart", class: "chart-wrap", tabindex: "0", role: "region", "aria-label": "Price and requirement chart" });
  const keeperBox = h("div", { id: "keeper" });
  const alertsBox = h("div", { id: "alerts" });
  fill(root,
    h("h2", {}, "Overview"),
    cards,
    h("section", { class: "panel", "aria-labelledby": "chart-title" },
      h("h3", { id: "chart-title" }, "Token price and access requirement"),
      chartBox,
      h("ul", { class: "legend" },
        h("li", {}, h("span", { class: "swatch price" }), "price that set it (USD, left axis)"),
        h("li", {}, h("span", { class: "swatch req" }), "requirement (tokens, right axis, dashed)"),
        h("li", {}, h("span", { class: "swatch band" }), "±threshold: moves inside do not re-price"),
        h("li", {}, "● an applied update"))),
    h("div", { class: "wide-grid" },
      h("section", { class: "panel", "aria-labelledby": "keeper-title" }, h("h3", { id: "keeper-title" }, "Keeper"), keeperBox),
      h("section", { class: "panel", "aria-labelledby": "alerts-title" }, h("h3", { id: "alerts-title" }, "Alerts"), alertsBox)));

  let requirement = null;
  let points = [];
  let alertEvents = [];
  let keeper = null;

  function drawCards() {
    const r = requirement;
    fill(cards,
      card("Access requirement", r.effective_tokens === null ? "not priced yet" : `${r.effective_tokens} tokens`,
        `set by ${r.set_by}${r.override ? `, override until ${when(r.override.expires_at)}` : ""}`, { id: "requirement-value" }),
      card("Token price", r.price_usd === null ? "–" : `$${r.price_usd}`, `${r.source} feed, ${r.price_age_secs ?? "–"} s old at slot ${r.slot}`),
      card("Circuit breaker", r.breaker_tripped ? "tripped" : "closed", r.breaker_tripped ? "frozen until the guardian resets it" : "both feeds agree",
        { class: `card ${r.breaker_tripped ? "bad" : "good"}`, id: "breaker" }),
      card("Program", r.paused ? "paused" : "running", `re-prices on a ${r.params.update_threshold_bps / 100}% move, at most every ${r.params.min_update_interval_secs} s`,
        { class: `card ${r.paused ? "bad" : "good"}`, id: "paused" }),
      card("Keeper", keeper === null ? "unknown" : keeper.ok ? "healthy" : "unhealthy",
        keeper?.error || (keeper?.reasons || []).join("; ") || "every check passes",
        { class: `card ${keeper?.ok ? "good" : "bad"}`, id: "keeper-health" }));
  }

  function drawChart() {
    const threshold = requirement?.params.update_threshold_bps ?? 100;
    const last = points[points.length - 1];
    const summary = last
      ? `${points.length} applied updates; the last at ${when(last.t)} set $${last.price} and ${last.required / 10 ** decimals} tokens`
      : "no applied update yet";
    const shown = points.map((p) => ({ ...p, required: p.required / 10 ** decimals }));
    fill(chartBox, requirementChart(shown, threshold, requirement?.cluster_time ?? Date.now() / 1000, summary));
  }

  function drawKeeper() {
    if (keeper === null) return;
    if (!keeper.reachable) {
      fill(keeperBox, h("p", { class: "bad" }, keeper.error || "the keeper did not answer"));
      return;
    }
    const jobs = Object.entries(keeper.jobs);
    const journal = keeper.journal || {};
    fill(keeperBox,
      h("p", {}, keeper.ok ? h("span", { class: "good" }, "Healthy") : h("span", { class: "bad" }, "Unhealthy: " + keeper.reasons.join("; ")),
        ` — journal: ${journal.backlog_events ?? "–"} events to push, ${journal.quarantined_events ?? "–"} quarantined, last confirmed batch ${journal.last_confirmed_batch ?? "–"}`),
      table("Job runs", [{ label: "Job" }, { label: "Runs", num: 1 }, { label: "Errors", num: 1 }, { label: "Last success" }],
        jobs.map(([name, job]) => row([name, num(job.runs), num(job.errors),
          job.seconds_since_success === null ? "never" : `${Math.round(job.seconds_since_success)} s ago`]))));
  }

  function drawAlerts() {
    const items = [];
    if (requirement?.paused) items.push(h("li", { class: "bad" }, "The program is paused: access checks fail and fees cannot be paid."));
    if (requirement?.breaker_tripped) items.push(h("li", { class: "bad" }, "The circuit breaker is tripped: the requirement is frozen."));
    if (keeper && !keeper.ok) items.push(h("li", { class: "bad" }, `Keeper: ${keeper.error || keeper.reasons.join("; ")}`));
    for (const event of alertEvents) {
      const d = event.data;
      items.push(h("li", { class: "warn" },
        `${when(event.block_time)}: price moved ${(d.moved_bps / 100).toFixed(2)}% (alert at ${d.threshold_bps / 100}%)`));
    }
    fill(alertsBox, items.length ? h("ul", { class: "alerts" }, items) : h("p", {}, "No alerts."));
  }

  async function loadRequirement() {
    requirement = await api.get("/v1/requirement");
    drawCards();
  }

  async function loadKeeper() {
    try {
      keeper = await api.get("/v1/keeper");
    } catch (error) {
      if (error.status === 401) throw error;
      keeper = { reachable: false, ok: null, reasons: [], jobs: {}, error: error.message };
    }
    drawCards();
    drawKeeper();
    drawAlerts();
  }

  const [history, alerts] = await Promise.all([
    api.get("/v1/events", { types: "requirement.updated", ending_before: LATEST, limit: HISTORY }),
    api.get("/v1/events", { types: "alert.price_moved", ending_before: LATEST, limit: 10 }),
  ]);
  points = history.data.filter((e) => e.data.event === "RequirementUpdated").map(pointOf).reverse();
  alertEvents = alerts.data;
  await loadRequirement();
  drawChart();
  drawAlerts();
  loadKeeper();
  const timer = setInterval(() => {
    loadRequirement().then(drawChart).catch(() => {});
    loadKeeper().catch(() => {});
  }, 5000);

  return {
    onEvent(event) {
      if (event.type === "requirement.updated") {
        if (event.data.event === "RequirementUpdated") points = [...points, pointOf(event)].slice(-HISTORY);
        loadRequirement().then(drawChart).catch(() => {});
      } else if (event.type === "alert.price_moved") {
        alertEvents = [event, ...alertEvents].slice(0, 10);
        drawAlerts();
      }
    },
    unmount() {
      clearInterval(timer);
    },
  };
}

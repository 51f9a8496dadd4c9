// Revenue and buy-backs: revenue per source and day, the treasury, and the
// buy-orders with their fills; orders and fills arrive live from the stream.
import { LATEST } from "./api.js";
import { dailyBars } from "./chart.js";
import { card, fill, h, num, rand, randShort, row, table, units, when } from "./dom.js";

const ORDER_TYPES = "buy_order.opened,buy_order.filled,buy_order.closed";
const SOURCES = [["course_sale", "course", "course sales"], ["subscription", "subs", "subscriptions"], ["other", "other", "other"]];

function statusName(status) {
  return typeof status === "string" ? status : Object.keys(status || {})[0] || "?";
}

export async function mount(root, { api }) {
  const cards = h("div", { class: "grid", id: "treasury-cards" });
  const dailyBox = h("div", { id: "daily" });
  const ordersBox = h("div", { id: "orders" });
  const fillsBox = h("div", { id: "fills" });
  fill(root,
    h("h2", {}, "Revenue and buy-backs"),
    cards,
    h("section", { class: "panel", "aria-labelledby": "daily-title" }, h("h3", { id: "daily-title" }, "Revenue reported on-chain, per day (UTC)"), dailyBox),
    h("section", { class: "panel", "aria-labelledby": "orders-title" }, h("h3", { id: "orders-title" }, "Buy-orders"), ordersBox),
    h("section", { class: "panel", "aria-labelledby": "fills-title" }, h("h3", { id: "fills-title" }, "Fills"), fillsBox));

  let treasury = null;
  const orders = new Map();
  let fills = [];
  let fresh = new Set();

  const quote = (v) => (treasury ? units(v, treasury.quote_decimals) : String(v));
  const tokens = (v) => (treasury ? units(v, treasury.token_decimals) : String(v));

  function drawCards() {
    const t = treasury;
    const m = t.metrics;
    fill(cards,
      card("Revenue reported", rand(t.revenue_cents.total), `${rand(t.available_cents)} not yet used for buy-orders`),
      card("Quote vault", t.quote_vault_balance === null ? "missing" : quote(t.quote_vault_balance), `${quote(m.quote_spent)} spent, ${quote(m.quote_returned)} returned`),
      card("Tokens bought", tokens(m.tokens_acquired), `${tokens(m.tokens_burned)} burned`, { id: "tokens-burned" }),
      card("Average price", t.average_price === null ? "–" : t.average_price, "quote per token over every fill"),
      card("Orders", `${m.orders_opened} opened`, `${m.orders_completed} completed, ${m.orders_expired} expired, ${m.orders_cancelled} cancelled`, { id: "order-counts" }));
  }

  async function loadTreasury() {
    treasury = await api.get("/v1/treasury");
    drawCards();
    drawOrders();
    drawFills();
  }

  async function loadDaily() {
    const daily = (await api.get("/v1/revenue/daily", { days: 30 })).data;
    const total = daily.reduce((sum, d) => sum + d.total, 0);
    fill(dailyBox,
      h("div", { class: "chart-wrap", tabindex: "0", role: "region", "aria-label": "Revenue per day chart" },
        dailyBars(daily, SOURCES, `revenue of the last ${daily.length} days with revenue: ${rand(total)}`, rand, randShort)),
      h("ul", { class: "legend" }, SOURCES.map(([, cls, name]) => h("li", {}, h("span", { class: `swatch ${cls}` }), name))),
      table("Revenue per day", [{ label: "Day" }, ...SOURCES.map(([, , name]) => ({ label: name, num: 1 })), { label: "Total", num: 1 }, { label: "Batches", num: 1 }],
        [...daily].reverse().map((d) => row([d.day, ...SOURCES.map(([key]) => num(rand(d[key]))), num(rand(d.total)), num(d.batches)]))));
  }

  function order(id) {
    if (!orders.has(id)) orders.set(id, { id, status: "Pending", fills: 0, tokens_acquired: 0, quote_spent: 0 });
    return orders.get(id);
  }

  function apply(event) {
    const d = event.data;
    const o = order(Number(d.id));
    if (event.type === "buy_order.opened") {
      Object.assign(o, { zar_allocated_cents: d.zar_allocated_cents, quote_budget: d.quote_budget, limit_price: d.limit_price, expires_at: d.expires_at });
    } else if (event.type === "buy_order.filled") {
      o.fills += 1;
      o.tokens_acquired += Number(d.tokens);
      o.quote_spent += Number(d.quote_paid);
      o.status = statusName(d.status);
      fills.unshift({ ...d, block_time: event.block_time, seq: event.seq });
    } else if (event.type === "buy_order.closed") {
      o.status = statusName(d.status);
    }
  }

  function drawOrders() {
    const shown = [...orders.values()].sort((a, b) => b.id - a.id).slice(0, 50);
    fill(ordersBox, table("Buy-orders, newest first (filled and expired orders stay listed)",
      [{ label: "Order" }, { label: "Status" }, { label: "ZAR allocated", num: 1 }, { label: "Budget", num: 1 }, { label: "Spent", num: 1 },
        { label: "Tokens", num: 1 }, { label: "Fills", num: 1 }, { label: "Limit price", num: 1 }, { label: "Expires" }],
      shown.map((o) => row([
        `#${o.id}`, h("span", { class: `badge ${o.status === "Pending" ? "warn" : o.status === "Completed" ? "good" : ""}` }, o.status),
        num(rand(o.zar_allocated_cents)), num(o.quote_budget === undefined ? "–" : quote(o.quote_budget)), num(quote(o.quote_spent)),
        num(tokens(o.tokens_acquired)), num(o.fills), num(o.limit_price === undefined ? "–" : quote(o.limit_price)), when(o.expires_at),
      ], { "data-order": o.id, "data-status": o.status, "data-fills": o.fills, class: fresh.has(o.id) ? "fresh" : null }))));
  }

  function drawFills() {
    fill(fillsBox, table("Fills, newest first", [{ label: "Order" }, { label: "Tokens", num: 1 }, { label: "Price", num: 1 }, { label: "Paid", num: 1 }, { label: "Burned" }, { label: "When" }],
      fills.slice(0, 50).map((f) => row([`#${f.id}`, num(tokens(Number(f.tokens))), num(quote(Number(f.price))), num(quote(Number(f.quote_paid))), f.burned ? "yes" : "no", when(f.block_time)]))));
  }

  const [accounts, history] = await Promise.all([
    api.get("/v1/buy-orders", { limit: 100 }),
    api.get("/v1/events", { types: ORDER_TYPES, ending_before: LATEST, limit: 100 }),
  ]);
  for (const event of [...history.data].reverse()) apply(event);
  fills = fills.slice(0, 50);
  for (const account of accounts.data) Object.assign(order(account.id), account);
  await Promise.all([loadTreasury(), loadDaily()]);

  let pending = null;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      Promise.all([loadTreasury(), loadDaily()]).catch(() => {});
    }, 1000);
  };
  return {
    onEvent(event) {
      if (event.type.startsWith("buy_order.")) {
        apply(event);
        fresh = new Set([Number(event.data.id)]);
        drawOrders();
        drawFills();
        refresh();
      } else if (event.type === "revenue.batch_committed") {
        refresh();
      }
    },
    unmount() {
      clearTimeout(pending);
    },
  };
}

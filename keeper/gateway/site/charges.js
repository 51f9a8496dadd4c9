// Charges: the merchant's charges with filters, per-service totals and a CSV export.
import { fill, h, num, row, short, table, units, whenMs } from "./dom.js";

const PAGE = 50;

export async function mount(root, { api, decimals }) {
  const fees = await api.get("/v1/fees");
  const services = fees.data.map((s) => s.name);
  const field = (id, text, control) => h("div", {}, h("label", { for: id }, text), control);
  const status = h("select", { id: "f-status", name: "status" }, ["", "succeeded", "failed", "pending"].map((v) => h("option", { value: v }, v || "any")));
  const service = h("select", { id: "f-service", name: "service" }, ["", ...services].map((v) => h("option", { value: v }, v || "any")));
  const wallet = h("input", { id: "f-wallet", name: "wallet", size: 20, maxlength: 44, spellcheck: "false", autocomplete: "off" });
  const since = h("input", { id: "f-since", name: "since", type: "date" });
  const until = h("input", { id: "f-until", name: "until", type: "date" });
  const message = h("p", { class: "error", "aria-live": "polite" });
  const totalsBox = h("div", { id: "charge-totals" });
  const listBox = h("div", { id: "charge-list" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const form = h("form", { class: "inline", id: "charge-filters" },
    field("f-status", "Status", status), field("f-service", "Service", service), field("f-wallet", "Wallet", wallet),
    field("f-since", "From (UTC)", since), field("f-until", "Until (UTC, inclusive)", until),
    h("div", {}, h("button", { type: "submit" }, "Apply")),
    h("div", {}, h("button", { type: "button", class: "secondary", id: "export-csv", onclick: exportCsv }, "Export CSV")));
  fill(root,
    h("h2", {}, "Charges"),
    h("section", { class: "panel", "aria-labelledby": "filters-title" }, h("h3", { id: "filters-title" }, "Filters"), form, message),
    h("section", { class: "panel", "aria-labelledby": "totals-title" }, h("h3", { id: "totals-title" }, "Per service"), totalsBox),
    h("section", { class: "panel", "aria-labelledby": "list-title" }, h("h3", { id: "list-title" }, "Charges, newest first"), listBox, more));

  let rows = [];
  let cursor = null;

  function filters() {
    const day = (input, plus) => (input.value ? Date.parse(input.value + "T00:00:00Z") + plus : null);
    return {
      status: status.value, service: service.value, wallet: wallet.value.trim(),
      since_ms: day(since, 0), until_ms: day(until, 86_400_000),
    };
  }

  function draw() {
    fill(listBox, table(`${rows.length} charges shown`,
      [{ label: "Request" }, { label: "Status" }, { label: "Service" }, { label: "Amount", num: 1 }, { label: "Wallet" }, { label: "Transaction" }, { label: "Created" }],
      rows.map((c) => row([c.request_id, h("span", { class: `badge ${c.status === "succeeded" ? "good" : c.status === "failed" ? "bad" : "warn"}` }, c.status),
        c.service, num(c.amount_units === null ? "–" : units(c.amount_units, decimals)), h("span", { class: "mono", title: c.wallet }, short(c.wallet)),
        c.signature ? h("span", { class: "mono", title: c.signature }, short(c.signature)) : c.error ? c.error.code : "–", whenMs(c.created_ms)],
      { "data-request": c.request_id }))));
    more.hidden = cursor === null;
  }

  async function load(append) {
    message.textContent = "";
    try {
      const params = { ...filters(), limit: PAGE, starting_after: append ? cursor : null };
      const [page, totals] = await Promise.all([api.get("/v1/charges", params), append ? null : api.get("/v1/reports/charge-totals", filters())]);
      rows = append ? [...rows, ...page.data] : page.data;
      cursor = page.has_more ? page.next_cursor : null;
      draw();
      if (totals) {
        fill(totalsBox, table("Charges and amounts per service and status",
          [{ label: "Service" }, { label: "Status" }, { label: "Charges", num: 1 }, { label: "Amount", num: 1 }],
          totals.data.map((t) => row([t.service, t.status, num(t.charges), num(units(t.amount_units, decimals))]))));
      }
    } catch (error) {
      message.textContent = error.message;
    }
  }

  async function exportCsv() {
    message.textContent = "";
    try {
      const response = await api.raw("/v1/reports/charges.csv", filters());
      const href = URL.createObjectURL(await response.blob());
      const link = h("a", { href, download: "charges.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
      if (response.headers.get("X-Next-Cursor")) message.textContent = "The export holds the newest 10,000 charges: narrow the dates for the rest.";
    } catch (error) {
      message.textContent = error.message;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener("click", () => load(true));
  await load(false);
  let pending = null;
  return {
    onEvent(event) {
      if (event.type.startsWith("charge.") && !pending) {
        pending = setTimeout(() => {
          pending = null;
          load(false);
        }, 1000);
      }
    },
    unmount() {
      clearTimeout(pending);
    },
  };
}

// Building the page from data without ever parsing data as HTML, and the
// number formats every view shares.

/** An element: attributes (on* are listeners) and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = tag.includes(":") ? document.createElementNS("http://www.w3.org/2000/svg", tag.split(":")[1]) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Base units as a decimal amount, every digit kept ("1500.5" for 150050000000, 8). */
export function units(value, decimals) {
  if (value === null || value === undefined) return "–";
  const negative = value < 0;
  const digits = String(Math.abs(value)).padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const frac = decimals ? digits.slice(-decimals).replace(/0+$/, "") : "";
  return `${negative ? "-" : ""}${Number(whole).toLocaleString("en-US")}${frac ? "." + frac : ""}`;
}

/** ZAR cents as rands. */
export function rand(cents) {
  if (cents === null || cents === undefined) return "–";
  return "R" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** ZAR cents as rands for an axis ("R53.6K"). */
export function randShort(cents) {
  return "R" + COMPACT.format(cents / 100);
}

/** A (price, expo) pair as a decimal string. */
export function scaled(price, expo) {
  if (expo >= 0) return String(price * 10 ** expo);
  return units(price, -expo).replace(/,/g, "");
}

export function when(unixSecs) {
  if (!unixSecs) return "–";
  return new Date(unixSecs * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function whenMs(ms) {
  return ms ? when(Math.floor(ms / 1000)) : "–";
}

export function short(text, keep = 6) {
  return !text || text.length <= keep * 2 + 1 ? text || "–" : `${text.slice(0, keep)}…${text.slice(-keep)}`;
}

/** A table in a scrolling wrapper: columns [{label, num}], rows of cells. */
export function table(caption, columns, rows, attrs = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)));
  const body = h("tbody", {}, rows);
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", attrs, h("caption", {}, caption), h("thead", {}, head), body));
}

export function row(cells, attrs = {}) {
  return h("tr", attrs, cells.map((cell) => (cell instanceof Node && cell.tagName === "TD" ? cell : h("td", {}, cell))));
}

export function num(value) {
  return h("td", { class: "num" }, value);
}

export function card(label, value, sub, attrs = {}) {
  return h("div", { class: "card", ...attrs }, h("p", { class: "label" }, label), h("p", { class: "value" }, value), sub ? h("p", { class: "sub" }, sub) : null);
}

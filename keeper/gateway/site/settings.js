// Settings: webhook endpoints (add, test-send, delivery log, replay, delete)
// and the merchant's API keys (create, revoke).
import { fill, h, num, row, table, when, whenMs } from "./dom.js";

const EVENT_TYPES = [
  "charge.succeeded", "charge.failed", "requirement.updated", "access.changed", "buy_order.opened",
  "buy_order.filled", "buy_order.closed", "revenue.batch_committed", "alert.price_moved",
];

export async function mount(root, { api, me, signOut }) {
  const hooksBox = h("div", { id: "webhooks" });
  const logBox = h("div", { id: "delivery-log", "aria-live": "polite" });
  const keysBox = h("div", { id: "keys" });
  const secretBox = h("div", { "aria-live": "polite" });
  const hookMessage = h("p", { class: "error", "aria-live": "polite" });
  const keyMessage = h("p", { class: "error", "aria-live": "polite" });
  const url = h("input", { id: "hook-url", name: "url", type: "url", required: true, size: 36, placeholder: "https://example.com/hooks/aistm7" });
  const types = h("fieldset", {}, h("legend", {}, "Events"),
    EVENT_TYPES.map((type) => h("label", {}, h("input", { type: "checkbox", name: "events", value: type, checked: type.startsWith("charge.") }), " ", type)));
  const hookForm = h("form", { id: "hook-form" },
    h("div", {}, h("label", { for: "hook-url" }, "Endpoint URL"), h("br"), url), types, h("button", { type: "submit" }, "Add webhook"));
  const label = h("input", { id: "key-label", name: "label", maxlength: 128, size: 24 });
  const scopes = h("fieldset", {}, h("legend", {}, "Scopes"),
    ["read", "charge", "admin"].map((scope) => h("label", {}, h("input", { type: "checkbox", name: "scopes", value: scope, checked: scope === "read" }), " ", scope)));
  const keyForm = h("form", { id: "key-form" }, h("div", {}, h("label", { for: "key-label" }, "Label"), h("br"), label), scopes, h("button", { type: "submit" }, "Create key"));
  fill(root,
    h("h2", {}, "Settings"),
    h("section", { class: "panel", "aria-labelledby": "hooks-title" }, h("h3", { id: "hooks-title" }, "Webhook endpoints"), hooksBox, hookForm, hookMessage, logBox),
    h("section", { class: "panel", "aria-labelledby": "keys-title" }, h("h3", { id: "keys-title" }, "API keys"), keysBox, keyForm, keyMessage, secretBox));

  let watched = null;

  async function showLog(hook) {
    watched = hook;
    const page = await api.get(`/v1/webhooks/${hook.id}/deliveries`, { limit: 20 });
    fill(logBox, h("h3", { id: "log-title" }, `Deliveries to ${hook.url}`),
      table("Newest first", [{ label: "Delivery" }, { label: "Event" }, { label: "Status" }, { label: "Attempts", num: 1 }, { label: "HTTP", num: 1 }, { label: "Latency", num: 1 }, { label: "Created" }, { label: "" }],
        page.data.map((d) => row([`#${d.id}`, d.event_type, h("span", { class: `badge ${d.status === "delivered" ? "good" : d.status === "failed" ? "bad" : "warn"}` }, d.status),
          num(d.attempts), num(d.last_status ?? "–"), num(d.last_latency_ms === null ? "–" : `${d.last_latency_ms} ms`), whenMs(d.created_ms),
          h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => act(hookMessage, () => api.post(`/v1/webhooks/${hook.id}/deliveries/${d.id}/replay`), () => showLog(hook)) }, "Replay"))],
        { "data-delivery": d.id, "data-status": d.status, "data-event-type": d.event_type }))));
  }

  async function act(message, call, then) {
    message.textContent = "";
    try {
      const result = await call();
      await then(result);
    } catch (error) {
      message.textContent = error.message;
    }
  }

  async function loadHooks() {
    const hooks = await api.get("/v1/webhooks");
    fill(hooksBox, hooks.length
      ? table("Endpoints", [{ label: "Id" }, { label: "URL" }, { label: "Events" }, { label: "Created" }, { label: "" }],
        hooks.map((hook) => row([`#${hook.id}`, hook.url, hook.events.join(", "), whenMs(hook.created_ms), h("td", {}, h("div", { class: "actions" },
          h("button", { type: "button", onclick: () => act(hookMessage, () => api.post(`/v1/webhooks/${hook.id}/test`), () => showLog(hook)) }, "Send test"),
          h("button", { type: "button", class: "secondary", onclick: () => act(hookMessage, () => showLog(hook), () => {}) }, "Deliveries"),
          h("button", { type: "button", class: "danger", onclick: () => confirm(`Stop sending to ${hook.url}?`) && act(hookMessage, () => api.del(`/v1/webhooks/${hook.id}`), loadHooks) }, "Delete")))],
        { "data-hook": hook.id })))
      : h("p", {}, "No endpoints yet."));
  }

  async function loadKeys() {
    const keys = await api.get("/v1/keys");
    fill(keysBox, table("Keys of this merchant", [{ label: "Key" }, { label: "Label" }, { label: "Scopes" }, { label: "Rate", num: 1 }, { label: "Created" }, { label: "State" }, { label: "" }],
      keys.map((key) => row([h("code", {}, key.key_id), key.label || "–", key.scopes.join(", "), num(`${key.rate_per_sec}/s`), when(key.created_at),
        key.revoked_at ? `revoked ${when(key.revoked_at)}` : key.key_id === me.key_id ? "live (this session)" : "live",
        h("td", {}, key.revoked_at ? "" : h("button", {
          type: "button", class: "danger", "aria-label": `Revoke key ${key.key_id}`,
          onclick: () => confirm(`Revoke key ${key.key_id}? Every client using it is refused from now on.`) && act(keyMessage, () => api.del(`/v1/keys/${key.key_id}`),
            () => (key.key_id === me.key_id ? signOut("You revoked the key this session used.") : loadKeys())),
        }, "Revoke"))], { "data-key": key.key_id }))));
  }

  hookForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const events = [...types.querySelectorAll("input:checked")].map((box) => box.value);
    act(hookMessage, () => api.post("/v1/webhooks", { url: url.value.trim(), events }), async (made) => {
      url.value = "";
      fill(hookMessage, h("div", { class: "secret" }, "Signing secret of endpoint #", String(made.id), " (shown once): ", h("code", { id: "hook-secret" }, made.secret)));
      await loadHooks();
    });
  });
  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = [...scopes.querySelectorAll("input:checked")].map((box) => box.value);
    act(keyMessage, () => api.post("/v1/keys", { label: label.value, scopes: chosen }), async (made) => {
      label.value = "";
      fill(secretBox, h("div", { class: "secret" }, `New key ${made.key_id} (${made.scopes.join(", ")}), shown once: `, h("code", { id: "new-key" }, made.api_key)));
      await loadKeys();
    });
  });
  await Promise.all([loadHooks(), loadKeys()]);
  const timer = setInterval(() => {
    if (watched) showLog(watched).catch(() => {});
  }, 2000);
  return {
    onEvent() {},
    unmount() {
      clearInterval(timer);
    },
  };
}

// Proofs: a revenue reference's inclusion proof, checked by the gateway
// against the program's batch account.
import { fill, h, num, rand, row, table, when } from "./dom.js";

export async function mount(root, { api }) {
  const ref = h("input", { id: "proof-ref", name: "ref", required: true, maxlength: 128, size: 32, autocomplete: "off", spellcheck: "false" });
  const amount = h("input", { id: "proof-amount", name: "amount", required: true, inputmode: "decimal", size: 12, pattern: "[0-9]+([.][0-9]{1,2})?", autocomplete: "off", placeholder: "1499.00" });
  const result = h("div", { id: "proof-result", "aria-live": "polite" });
  const form = h("form", { class: "inline", id: "proof-form" },
    h("div", {}, h("label", { for: "proof-ref" }, "Revenue reference"), ref),
    h("div", {}, h("label", { for: "proof-amount" }, "Amount (ZAR)"), amount),
    h("div", {}, h("button", { type: "submit" }, "Check")));
  fill(root,
    h("h2", {}, "Proof of revenue"),
    h("section", { class: "panel" },
      h("p", {}, "Every revenue event the keeper reports is a leaf of its batch's Merkle-sum tree; the program keeps each batch's root. ",
        "Enter an event's reference and amount (as on the invoice): the gateway fetches its proof from the keeper's journal and checks it against the batch account on-chain."),
      form),
    result);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(result, h("p", {}, "Checking…"));
    try {
      const [rands, part = ""] = amount.value.trim().split(".");
      const cents = Number(rands) * 100 + Number(part.padEnd(2, "0"));
      const checked = await api.get(`/v1/revenue/proofs/${encodeURIComponent(ref.value.trim())}`, { cents });
      const p = checked.proof;
      const b = checked.batch;
      fill(result, h("section", { class: "panel", "aria-labelledby": "proof-title" },
        h("h3", { id: "proof-title", class: "good" }, `Verified: ${p.event.ref} is in batch ${p.batch_seq}`),
        table("The event and where it sits", [{ label: "Field" }, { label: "Value" }], [
          row(["Source", p.event.source]), row(["Amount", rand(p.event.cents)]),
          row(["Leaf", `${p.leaf_index + 1} of ${p.leaf_count}`]),
          row(["Batch account", h("code", {}, p.batch_account)]),
          row(["Root (on-chain)", h("code", {}, b.root)]),
          row(["Batch totals", `${rand(b.totals_cents.total)} in ${b.events} events, reported ${when(b.reported_at)} (slot ${b.slot})`]),
          row(["Transaction (as the keeper recorded it)", p.signature ? h("code", {}, p.signature) : "–"]),
          row(["Batch account read at slot", String(checked.slot)]),
        ]),
        table("Path from the leaf to the root", [{ label: "Step" }, { label: "Sibling on the" }, { label: "Hash" }, { label: "Events", num: 1 }],
          p.path.map((step, i) => row([String(i + 1), step.side, h("code", {}, step.hash), num(step.sums[3])])))));
    } catch (error) {
      fill(result, h("p", { class: "bad", id: "proof-error" }, error.code === "proof_invalid" ? `The proof does not hold: ${error.message}` : error.message));
    }
  });
  return { onEvent() {}, unmount() {} };
}

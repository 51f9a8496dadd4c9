// The SDK against a live gateway, local validator and deployed program; the
// environment names them (tests/test_sdk.py sets it up):
// AISTM7_GATEWAY_URL, AISTM7_GATEWAY_KEY (read, charge), AISTM7_GATEWAY_ADMIN_KEY,
// AISTM7_WALLETS (comma-separated wallets with tokens and an allowance), AISTM7_POOR_WALLET (no allowance).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

import { Gateway, GatewayError, PaymentFailed, verifyWebhook } from "../dist/index.js";

const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is required`);
  return value;
};
const url = env("AISTM7_GATEWAY_URL");
const gateway = new Gateway(url, env("AISTM7_GATEWAY_KEY"));
const admin = new Gateway(url, env("AISTM7_GATEWAY_ADMIN_KEY"));
const [w1, w2, w3, w4] = env("AISTM7_WALLETS").split(",");
const tag = Math.random().toString(36).slice(2, 10);

test("reads are typed and name their slot", async () => {
  const access = await gateway.access(w1);
  assert.equal(access.wallet, w1);
  assert.ok(access.slot > 0);
  assert.equal(access.requirement.set_by, "override");
  const fees = await gateway.fees();
  assert.deepEqual(fees.data.map((fee) => fee.name).sort(), ["analysis", "goal", "notification", "search"]);
  const summary = await gateway.revenueSummary({ limit: 1 });
  assert.equal(summary.batches.data.length, 1);
  assert.equal(summary.batches.has_more, true);
  const orders = await gateway.buyOrders();
  assert.deepEqual(orders.data, []);
  assert.equal((await gateway.health()).ok, true);
});

test("refusals are typed errors with the gateway's codes", async () => {
  await assert.rejects(gateway.access("not-a-wallet"), (error) => error instanceof GatewayError && error.code === "invalid_wallet");
  await assert.rejects(new Gateway(url, "agw_nope").fees(), (error) => error.status === 401 && error.code === "invalid_api_key");
  await assert.rejects(gateway.webhooks(), (error) => error.status === 403 && error.code === "insufficient_scope");
  await assert.rejects(
    gateway.charge({ wallet: env("AISTM7_POOR_WALLET"), service: "search", requestId: `poor-${tag}` }),
    (error) => error instanceof PaymentFailed && error.code === "allowance_too_small",
  );
});

test("a charge is made once per request id", async () => {
  const first = await gateway.charge({ wallet: w1, service: "search", requestId: `once-${tag}` });
  const again = await gateway.charge({ wallet: w1, service: "search", requestId: `once-${tag}` });
  assert.equal(first.status, "succeeded");
  assert.ok(first.signature);
  assert.deepEqual(again, first);
  assert.deepEqual(await gateway.getCharge(`once-${tag}`), first);
  const listed = await gateway.charges({ limit: 100 });
  assert.equal(listed.data.filter((charge) => charge.request_id === `once-${tag}`).length, 1);
});

test("webhook deliveries verify with the endpoint's secret", async () => {
  const received = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ body: Buffer.concat(chunks), header: request.headers["x-signature"] });
      response.end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const hook = await admin.createWebhook(`http://127.0.0.1:${server.address().port}/hook`, ["charge.succeeded"]);
    assert.match(hook.secret, /^whsec_/);
    const charge = await admin.charge({ wallet: w2, service: "goal", requestId: `hook-${tag}` });
    const deadline = Date.now() + 60_000;
    let event;
    while (!event && Date.now() < deadline) {
      event = received.map(({ body, header }) => verifyWebhook(hook.secret, body, header)).find((e) => e.signature === charge.signature);
      if (!event) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(event, "the charge's event was delivered");
    assert.equal(event.type, "charge.succeeded");
    assert.throws(() => verifyWebhook("whsec_other", received[0].body, received[0].header), /bad_signature/);
    const log = await admin.deliveries(hook.id);
    assert.ok(log.data.some((delivery) => delivery.event_id === event.id && delivery.status === "delivered"));
    await admin.deleteWebhook(hook.id);
    assert.deepEqual((await admin.webhooks()).filter((h) => h.id === hook.id), []);
  } finally {
    server.close();
  }
});

test("the stream resumes after the last event seen, without gaps", async () => {
  const live = gateway.stream({ types: ["charge.succeeded"] });
  const pending = live.next();
  await new Promise((resolve) => setTimeout(resolve, 500)); // connected before the charge
  const first = await gateway.charge({ wallet: w3, service: "search", requestId: `stream-1-${tag}` });
  const seen = (await pending).value;
  await live.return();
  assert.equal(seen.signature, first.signature);

  const missed = [
    await gateway.charge({ wallet: w4, service: "search", requestId: `stream-2-${tag}` }),
    await gateway.charge({ wallet: w4, service: "search", requestId: `stream-3-${tag}` }),
  ];
  const resumed = gateway.stream({ types: ["charge.succeeded"], lastEventId: seen.id });
  const again = [(await resumed.next()).value, (await resumed.next()).value];
  await resumed.return();
  assert.deepEqual(again.map((event) => event.signature), missed.map((charge) => charge.signature));
  assert.ok(again[0].seq > seen.seq && again[1].seq > again[0].seq);
});

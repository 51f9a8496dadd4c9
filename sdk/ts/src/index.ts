// Typed client of the AISTM7 merchant gateway's REST v1 (the types mirror
// its OpenAPI document at /v1/openapi.json), with the event stream (resumed
// after the last event seen) and webhook signature checks.
//
//   const gateway = new Gateway("http://127.0.0.1:8790", process.env.AISTM7_KEY!);
//   if ((await gateway.access(wallet)).has_access) await gateway.charge({ wallet, service: "search", requestId: "order-1" });

import { createHmac, timingSafeEqual } from "node:crypto";
import WebSocket from "ws";

export type EventType =
  | "requirement.updated"
  | "access.changed"
  | "charge.succeeded"
  | "charge.failed"
  | "buy_order.opened"
  | "buy_order.filled"
  | "buy_order.closed"
  | "revenue.batch_committed"
  | "alert.price_moved";

export interface Override {
  units: number;
  expires_at: number;
}

export interface Requirement {
  slot: number;
  cluster_time: number;
  effective_units: number | null;
  effective_tokens: string | null;
  set_by: "price" | "override" | "nothing yet";
  computed_units: number;
  price: number;
  expo: number;
  price_usd: string | null;
  source: string;
  publish_time: number;
  price_age_secs: number | null;
  updated_at: number;
  breaker_tripped: boolean;
  paused: boolean;
  override: Override | null;
}

export interface Access {
  slot: number;
  cluster_time: number;
  wallet: string;
  has_access: boolean;
  locked_units: number;
  locked_tokens: string;
  unlocking_units: number;
  unlocking_tokens: string;
  unlock_at: number | null;
  required_units: number | null;
  required_tokens: string | null;
  paused: boolean;
  requirement: Requirement;
}

export interface Fee {
  name: string;
  cost_units: number;
  cost_tokens: string;
  active: boolean;
  payable_now: boolean;
  valid_from: number;
  valid_to: number | null;
  count: number;
  total_units: number;
}

export interface Fees {
  slot: number;
  cluster_time: number;
  data: Fee[];
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: number | null;
}

export interface BuyOrder {
  id: number;
  status: string;
  zar_allocated_cents: number;
  revenue_used_cents: number;
  quote_budget: number;
  quote_spent: number;
  tokens_acquired: number;
  limit_price: number;
  created_at: number;
  expires_at: number;
  closed_at: number;
}

export interface RevenueTotals {
  course_sale: number;
  subscription: number;
  other: number;
  total: number;
}

export interface RevenueBatch {
  batch_seq: number;
  root: string;
  totals_cents: RevenueTotals;
  events: number;
  reported_at: number;
  slot: number;
}

export interface RevenueSummary {
  slot: number;
  revenue_cents: RevenueTotals;
  available_cents: number;
  last_batch_seq: number;
  batches: Page<RevenueBatch>;
}

export interface Charge {
  request_id: string;
  merchant: string;
  wallet: string;
  service: string;
  token_account: string;
  status: "pending" | "succeeded" | "failed";
  amount_units: number | null;
  signature: string | null;
  slot: number | null;
  error: { code: string; message: string | null } | null;
  created_ms: number;
  completed_ms: number | null;
}

export interface GatewayEvent {
  id: string;
  seq: number;
  type: EventType;
  created_ms: number;
  slot: number | null;
  signature: string | null;
  block_time: number | null;
  data: Record<string, unknown>;
}

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  created_ms: number;
}

export interface NewWebhook extends Webhook {
  secret: string;
}

export interface Attempt {
  attempt: number;
  at_ms: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface Delivery {
  id: number;
  event_id: string;
  event_type: string;
  status: "pending" | "delivered" | "failed" | "cancelled";
  attempts: number;
  next_attempt_ms: number;
  created_ms: number;
  completed_ms: number | null;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  tries: Attempt[];
}

/** A refusal: the HTTP status and the gateway's stable error code. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = "GatewayError";
  }
}

/** The wallet cannot pay, or the program refused the charge (`charge` as recorded). */
export class PaymentFailed extends GatewayError {
  constructor(status: number, code: string, message: string, readonly charge: Charge | null) {
    super(status, code, message);
    this.name = "PaymentFailed";
  }
}

interface Call {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  idempotent?: boolean;
  retryOn?: string[];
}

export interface Options {
  /** Attempts after the first for what is safe to retry (default 5). */
  retries?: number;
  /** Milliseconds before a request is abandoned (default 30 s). */
  timeoutMs?: number;
}

export interface ListOptions {
  startingAfter?: number;
  limit?: number;
}

const SIGNATURE_TOLERANCE_SECS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const segment = (value: string | number) => encodeURIComponent(String(value));

export class Gateway {
  readonly baseUrl: string;
  private readonly retries: number;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, private readonly apiKey: string, options: Options = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.retries = options.retries ?? 5;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private async run<T>(call: Call): Promise<T> {
    const url = new URL(this.baseUrl + call.path);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const idempotent = call.idempotent ?? call.method !== "POST";
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: call.method,
          headers: { Authorization: `Bearer ${this.apiKey}`, ...(call.body ? { "Content-Type": "application/json" } : {}) },
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (!idempotent || attempt >= this.retries) throw error;
        await sleep(backoffMs(attempt, null));
        continue;
      }
      const payload: any = await response.json().catch(() => null);
      if (response.ok || (call.path === "/v1/health" && response.status === 503)) return payload as T;
      const refusal = refused(response, payload);
      const retryable =
        refusal.status === 429 ||
        (idempotent && ([502, 503, 504].includes(refusal.status) || (call.retryOn ?? []).includes(refusal.code)));
      if (!retryable || attempt >= this.retries) throw refusal;
      await sleep(backoffMs(attempt, refusal.retryAfter));
    }
  }

  access(wallet: string): Promise<Access> {
    return this.run({ method: "GET", path: `/v1/access/${segment(wallet)}` });
  }

  requirement(): Promise<Requirement> {
    return this.run({ method: "GET", path: "/v1/requirement" });
  }

  fees(): Promise<Fees> {
    return this.run({ method: "GET", path: "/v1/fees" });
  }

  buyOrders(options: ListOptions & { status?: string } = {}): Promise<Page<BuyOrder>> {
    const query = { status: options.status, starting_after: options.startingAfter, limit: options.limit };
    return this.run({ method: "GET", path: "/v1/buy-orders", query });
  }

  revenueSummary(options: ListOptions = {}): Promise<RevenueSummary> {
    return this.run({ method: "GET", path: "/v1/revenue/summary", query: { starting_after: options.startingAfter, limit: options.limit } });
  }

  /** Charge once per `requestId` (retries are safe); waits for a pending charge to settle. */
  async charge(request: { wallet: string; service: string; requestId: string; tokenAccount?: string }): Promise<Charge> {
    const body = {
      wallet: request.wallet,
      service: request.service,
      request_id: request.requestId,
      ...(request.tokenAccount ? { token_account: request.tokenAccount } : {}),
    };
    let found = await this.run<Charge>({
      method: "POST", path: "/v1/charges", body, idempotent: true, retryOn: ["charge_in_progress", "charge_not_sent"],
    });
    const deadline = Date.now() + 60_000;
    while (found.status === "pending" && Date.now() < deadline) {
      await sleep(250);
      found = await this.getCharge(request.requestId);
    }
    return found;
  }

  getCharge(requestId: string): Promise<Charge> {
    return this.run({ method: "GET", path: `/v1/charges/${segment(requestId)}` });
  }

  charges(options: ListOptions = {}): Promise<Page<Charge>> {
    return this.run({ method: "GET", path: "/v1/charges", query: { starting_after: options.startingAfter, limit: options.limit } });
  }

  events(options: ListOptions & { types?: EventType[] } = {}): Promise<Page<GatewayEvent>> {
    const query = { starting_after: options.startingAfter, limit: options.limit, types: options.types?.join(",") };
    return this.run({ method: "GET", path: "/v1/events", query });
  }

  createWebhook(url: string, events: EventType[]): Promise<NewWebhook> {
    return this.run({ method: "POST", path: "/v1/webhooks", body: { url, events } });
  }

  webhooks(): Promise<Webhook[]> {
    return this.run({ method: "GET", path: "/v1/webhooks" });
  }

  deleteWebhook(id: number): Promise<Webhook> {
    return this.run({ method: "DELETE", path: `/v1/webhooks/${segment(id)}` });
  }

  deliveries(id: number, options: ListOptions = {}): Promise<Page<Delivery>> {
    const query = { starting_after: options.startingAfter, limit: options.limit };
    return this.run({ method: "GET", path: `/v1/webhooks/${segment(id)}/deliveries`, query });
  }

  replay(id: number, deliveryId: number): Promise<{ delivery_id: number }> {
    return this.run({ method: "POST", path: `/v1/webhooks/${segment(id)}/deliveries/${segment(deliveryId)}/replay` });
  }

  health(): Promise<Record<string, unknown>> {
    return this.run({ method: "GET", path: "/v1/health" });
  }

  /**
   * Events in order as they happen, from after the event `lastEventId` or the
   * seq `startingAfter` (else from now).
   * A dropped connection is resumed after the last event yielded, so nothing
   * is missed or repeated; a refusal (key, scope, input) throws GatewayError.
   */
  async *stream(options: { types?: EventType[]; lastEventId?: string; startingAfter?: number } = {}): AsyncGenerator<GatewayEvent> {
    let lastEventId = options.lastEventId;
    let startingAfter = options.startingAfter;
    let failures = 0;
    for (;;) {
      const url = new URL(this.baseUrl.replace(/^http/, "ws") + "/v1/stream");
      // Once an event was seen its id is the cursor; `startingAfter` only places the first connection.
      if (lastEventId) url.searchParams.set("last_event_id", lastEventId);
      else if (startingAfter !== undefined) url.searchParams.set("starting_after", String(startingAfter));
      if (options.types?.length) url.searchParams.set("types", options.types.join(","));
      const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${this.apiKey}` } });
      for await (const item of messages(socket)) {
        if (item instanceof GatewayError) throw item;
        if ("stream" in item) {
          // The position this connection starts after: a drop before any event resumes from it.
          if (!lastEventId) startingAfter = item.after_seq;
          continue;
        }
        lastEventId = item.id;
        failures = 0;
        yield item;
      }
      if (++failures > this.retries) throw new GatewayError(503, "stream_unavailable", "the stream could not be resumed");
      await sleep(backoffMs(failures, null));
    }
  }
}

/** The messages of one connection as events, ending when it closes (a refusal ends it with a GatewayError). */
interface StreamOpened {
  stream: "open";
  after_seq: number;
}

async function* messages(socket: WebSocket): AsyncGenerator<GatewayEvent | StreamOpened | GatewayError> {
  const queue: (GatewayEvent | StreamOpened | GatewayError | null)[] = [];
  let wake: (() => void) | null = null;
  const push = (item: GatewayEvent | StreamOpened | GatewayError | null) => {
    queue.push(item);
    wake?.();
  };
  socket.on("message", (data) => {
    try {
      push(JSON.parse(data.toString()));
    } catch {
      socket.terminate(); // not the gateway speaking: reconnect and resume
    }
  });
  socket.on("close", (code, reason) =>
    push(code >= 4400 && code < 4500 ? new GatewayError(code - 4000, reason.toString() || "stream_refused", "the stream was refused") : null),
  );
  socket.on("error", () => undefined); // a close follows
  try {
    for (;;) {
      if (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const item = queue.shift();
      if (item === undefined) continue;
      if (item === null) return;
      yield item;
      if (item instanceof GatewayError) return;
    }
  } finally {
    socket.close();
  }
}

function refused(response: Response, payload: any): GatewayError {
  const error = payload?.error;
  if (!error || typeof error !== "object") {
    return new GatewayError(response.status, "unexpected_response", `answered ${response.status} without an error object`);
  }
  const retry = response.headers.get("retry-after");
  const code = String(error.code);
  if (response.status === 402) return new PaymentFailed(402, code, String(error.message), payload.charge ?? null);
  const seconds = retry && /^\d+$/.test(retry) ? Number(retry) : null; // an HTTP date is not ours to parse
  return new GatewayError(response.status, code, String(error.message), error.param ?? null, seconds);
}

function backoffMs(attempt: number, retryAfterSecs: number | null): number {
  return retryAfterSecs !== null ? retryAfterSecs * 1000 : Math.min(5_000, 250 * 2 ** attempt);
}

/**
 * The delivered event, when `header` (X-Signature: t=<unix seconds>,v1=<hex>)
 * signs the raw `body` under `secret` within `toleranceSecs` of now; throws otherwise.
 */
export function verifyWebhook(
  secret: string,
  body: string | Buffer,
  header: string | null | undefined,
  toleranceSecs = SIGNATURE_TOLERANCE_SECS,
  nowSecs = Date.now() / 1000,
): GatewayEvent {
  if (!header) throw new Error("missing_signature: the X-Signature header is required");
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(",")) {
    const [key, value = ""] = part.trim().split("=", 2);
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && /^[0-9a-fA-F]{64}$/.test(value)) candidates.push(value.toLowerCase());
  }
  if (timestamp === null || !candidates.length) throw new Error("bad_signature: X-Signature must be t=<unix seconds>,v1=<hex>");
  if (Math.abs(nowSecs - timestamp) > toleranceSecs) throw new Error(`stale_signature: more than ${toleranceSecs} s from now`);
  const raw = typeof body === "string" ? Buffer.from(body) : body;
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(raw).digest();
  if (!candidates.some((candidate) => timingSafeEqual(expected, Buffer.from(candidate, "hex")))) {
    throw new Error("bad_signature: the signature does not match");
  }
  return JSON.parse(raw.toString()) as GatewayEvent;
}

export const SIGNATURE_HEADER = "X-Signature";

// The gateway's /v1 API with the signed-in key, and its event stream.

/** An `ending_before` above every seq: the newest events. */
export const LATEST = "9223372036854775807";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls with `key`; `signedOut(reason)` runs when the gateway refuses the key itself. */
export function client(key, signedOut) {
  async function call(method, path, { params, body, raw } = {}) {
    const url = new URL(path, location.origin);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
    }
    const headers = { Authorization: `Bearer ${key}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) {
      const reason = (await response.json().catch(() => ({}))).error || {};
      signedOut(reason.code === "api_key_revoked" ? "Your key was revoked: sign in with another one." : "The gateway no longer accepts this key.");
      throw new ApiError(401, reason.code || "unauthorized", reason.message || "signed out");
    }
    if (!response.ok) {
      const detail = (await response.json().catch(() => ({}))).error || {};
      throw new ApiError(response.status, detail.code || "error", detail.message || `${response.status} ${response.statusText}`);
    }
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }
  return {
    get: (path, params) => call("GET", path, { params }),
    post: (path, body) => call("POST", path, { body: body ?? {} }),
    del: (path) => call("DELETE", path),
    raw: (path, params) => call("GET", path, { params, raw: true }),
  };
}

/**
 * The event stream, reconnecting from the last event seen: `onEvent(event)`
 * for each, `onState(open)` as it comes and goes, `signedOut(reason)` when the
 * gateway closes it for the key (4401). Returns a function that closes it.
 */
export function stream(key, { onEvent, onState, signedOut }) {
  let socket = null;
  let lastSeq = null;
  let stopped = false;
  let retry = null;
  function open() {
    const url = new URL("/v1/stream", location.origin);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("api_key", key);
    if (lastSeq !== null) url.searchParams.set("starting_after", String(lastSeq));
    socket = new WebSocket(url);
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.stream === "open") {
        lastSeq = lastSeq ?? event.after_seq;
        onState(true);
        return;
      }
      lastSeq = event.seq;
      onEvent(event);
    };
    socket.onclose = (closed) => {
      onState(false);
      if (stopped) return;
      if (closed.code === 4401) {
        signedOut(closed.reason === "api_key_revoked" ? "Your key was revoked: sign in with another one." : "The gateway no longer accepts this key.");
        return;
      }
      retry = setTimeout(open, closed.code === 4429 ? 5000 : 1500);
    };
  }
  open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    if (socket) socket.close(1000);
  };
}

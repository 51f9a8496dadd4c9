// The dashboard's shell: sign-in with an API key (kept in this tab's
// sessionStorage only), the sections its scopes allow, one event stream
// feeding the section on screen, and sign-out when the gateway refuses the key.
import { client, stream } from "./api.js";
import * as charges from "./charges.js";
import * as overview from "./overview.js";
import * as proofs from "./proofs.js";
import * as revenue from "./revenue.js";
import * as settings from "./settings.js";

const STORAGE = "aistm7.api_key";
const SECTIONS = {
  overview: { view: overview, scope: "read", title: "Overview" },
  revenue: { view: revenue, scope: "read", title: "Revenue and buy-backs" },
  charges: { view: charges, scope: "charge", title: "Charges" },
  settings: { view: settings, scope: "admin", title: "Settings" },
  proofs: { view: proofs, scope: "read", title: "Proofs" },
};

const $ = (id) => document.getElementById(id);
let session = null;
let mounted = null;
let generation = 0;

function allowed(scope) {
  return session.me.scopes.includes(scope) || session.me.scopes.includes("admin");
}

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

function signOut(reason) {
  if (session) session.closeStream();
  if (mounted) mounted.unmount();
  session = null;
  mounted = null;
  generation += 1;
  sessionStorage.removeItem(STORAGE);
  $("nav").hidden = true;
  $("who").hidden = true;
  $("view").hidden = true;
  $("view").replaceChildren();
  $("sign-in").hidden = false;
  $("api-key").value = "";
  notice(reason);
  document.title = "Sign in · AISTM7 dashboard";
  $("api-key").focus();
}

async function signIn(key) {
  const api = client(key, (reason) => session && signOut(reason));
  const me = await api.get("/v1/me");
  sessionStorage.setItem(STORAGE, key);
  session = { key, api, me, closeStream: () => {} };
  notice("");
  $("sign-in").hidden = true;
  $("view").hidden = false;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("who-text").textContent = `${me.merchant} · key ${me.key_id} (${me.scopes.join(", ")})`;
  for (const item of $("nav").querySelectorAll("li")) item.hidden = !allowed(item.dataset.scope);
  if (me.scopes.some((scope) => scope === "read" || scope === "admin")) {
    session.closeStream = stream(key, {
      onEvent: (event) => mounted && mounted.onEvent(event),
      onState: (open) => {
        $("live").textContent = open ? "live" : "offline";
        $("live").classList.toggle("on", open);
      },
      signedOut: signOut,
    });
  }
  await route();
}

async function route() {
  if (!session) return;
  const wanted = location.hash.replace(/^#\//, "") || "overview";
  const first = Object.keys(SECTIONS).find((name) => allowed(SECTIONS[name].scope));
  const name = SECTIONS[wanted] && allowed(SECTIONS[wanted].scope) ? wanted : first;
  if (!name) {
    signOut("This key has no scope the dashboard can show.");
    return;
  }
  if (name !== wanted) {
    history.replaceState(null, "", `#/${name}`);
  }
  for (const link of $("nav").querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (mounted) mounted.unmount();
  mounted = null;
  const mine = ++generation;
  const root = $("view");
  root.replaceChildren();
  root.setAttribute("aria-busy", "true");
  document.title = `${SECTIONS[name].title} · AISTM7 dashboard`;
  try {
    const view = await SECTIONS[name].view.mount(root, {
      api: session.api, me: session.me, decimals: session.me.token_decimals, signOut,
    });
    if (mine === generation) mounted = view;
    else view.unmount();
  } catch (error) {
    if (mine === generation && session) {
      const message = document.createElement("p");
      message.className = "error";
      message.textContent = `This section could not load: ${error.message}`;
      root.replaceChildren(message);
    }
  } finally {
    root.removeAttribute("aria-busy");
  }
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("sign-in-error");
  error.textContent = "";
  try {
    await signIn($("api-key").value.trim());
  } catch (failure) {
    if (session === null) error.textContent = failure.message;
  }
});
$("sign-out").addEventListener("click", () => signOut("Signed out."));
window.addEventListener("hashchange", () => {
  route();
  $("main").focus();
});

const saved = sessionStorage.getItem(STORAGE);
if (saved) signIn(saved).catch(() => signOut("Sign in again."));
else signOut("");

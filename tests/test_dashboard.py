"""The dashboard in a real browser (Debian's chromium, driven by Playwright)
against `scripts/run`: validator, deployed program, keeper, gateway and the
local market, on a fast schedule and a price path that moves 3% every 70 s.
Each test saves a screenshot under test-output/dashboard/."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import ROOT, _free_port, _free_port_pair

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-output" / "dashboard"
STEP_SECS = 70
"""The price path's step: longer than the program's minimum interval between re-pricings (60 s)."""
DASHBOARD = re.compile(r"dashboard: (http://\S+/) \(sign in with the admin key (agw_\S+),")
CONTRAST = """() => {
  // Every visible element with its own text: the WCAG 2 contrast ratio of its
  // colour against the first opaque background behind it.
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || !el.getClientRects().length || style.visibility === "hidden" || el.closest("[hidden]")) continue;
    const [a, b] = [lum(rgb(style.color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) failures.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return failures;
}"""


def price_path() -> str:
    """0.0100 and 0.0103 USD in turn, a step every STEP_SECS, for half an hour."""
    rows = [f"{i * STEP_SECS},{'0.0103' if i % 2 else '0.0100'},18.50" for i in range(30 * 60 // STEP_SECS)]
    return "seconds,token_usd,usd_zar\n" + "\n".join(rows) + "\n"


@dataclass(frozen=True)
class System:
    url: str
    admin_key: str
    state: Path
    output: list[str]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    base = tmp_path_factory.mktemp("dashboard")
    prices = base / "prices.csv"
    prices.write_text(price_path())
    config = base / "aistm7.toml"
    config.write_text(f'[market]\nprice-csv = "{prices}"\nfeed-interval = 1\nsales-per-sec = 2\nseller-interval = 2\n')
    state = base / "state"
    env = {
        **os.environ,
        "AISTM7_STATE": str(state), "AISTM7_RPC_PORT": str(_free_port_pair()), "AISTM7_HTTP_PORT": str(_free_port()),
        "AISTM7_GATEWAY_PORT": str(_free_port()), "AISTM7_CONFIG": str(config), "AISTM7_REFRESH_INTERVAL": "2",
        "AISTM7_BUYBACK_INTERVAL": "20", "AISTM7_PUSH_INTERVAL": "2", "AISTM7_CLOSE_INTERVAL": "60",
    }
    run = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "run")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(iter(run.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    try:
        deadline = time.monotonic() + 600
        found = None
        while found is None:
            assert run.poll() is None and time.monotonic() < deadline, "".join(output)[-3000:]
            found = next((m for m in map(DASHBOARD.search, list(output)) if m), None)
            time.sleep(0.5)
        yield System(found.group(1), found.group(2), state, output)
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=60)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1440, "height": 1000})
    made.set_default_timeout(30_000)
    yield made
    made.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, system: System, key: str | None = None, section: str = "overview") -> None:
    page.goto(f"{system.url}#/{section}")
    page.fill("#api-key", key or system.admin_key)
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#who-text")).to_be_visible()
    expect(page.locator("#live")).to_have_text("live")


def test_sign_in_by_keyboard_refuses_a_wrong_key(system: System, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(system.url)
    expect(page).to_have_title(re.compile("Sign in"))
    page.fill("#api-key", "agw_0123456789abcdef_" + "x" * 43)
    page.keyboard.press("Enter")
    expect(page.locator("#sign-in-error")).not_to_be_empty()
    page.fill("#api-key", "")
    page.locator("body").focus()
    for _ in range(5):  # the skip link, then the key field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "api-key":
            break
    page.keyboard.type(system.admin_key)
    page.keyboard.press("Enter")
    expect(page.locator("#who-text")).to_contain_text("local")
    expect(page.locator("#nav li[data-scope=admin]")).to_be_visible()
    link = page.locator("#nav a[href='#/revenue']")
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#/revenue$"))
    expect(link).to_have_attribute("aria-current", "page")
    expect(page.locator("#treasury-cards .card").first).to_be_visible()
    shot(page, "sign-in")


def test_the_overview_shows_the_requirement_change_after_a_price_update(system: System, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, system)
    value = page.locator("#requirement-value .value")
    expect(value).to_contain_text("tokens", timeout=60_000)
    before = value.inner_text()
    page.evaluate("window.notReloaded = true")
    expect(value).not_to_have_text(before, timeout=(2 * STEP_SECS + 30) * 1000)
    assert page.evaluate("window.notReloaded")
    expect(page.locator("#breaker .value")).to_have_text("closed")
    expect(page.locator("#paused .value")).to_have_text("running")
    expect(page.locator("#requirement-chart .marker").first).to_be_visible()
    expect(page.locator("#requirement-chart .band").first).to_be_visible()
    expect(page.locator("#keeper table tbody tr").first).to_be_visible()
    shot(page, "overview-1440")
    page.set_viewport_size({"width": 360, "height": 800})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "overview-360")


def test_a_buy_order_appears_and_fills_live(system: System, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, system, section="revenue")
    expect(page.locator("#treasury-cards")).to_be_visible()
    known = set(page.locator("#orders tr[data-order]").evaluate_all("rows => rows.map(r => r.dataset.order)"))
    page.evaluate("window.notReloaded = true")
    newest = page.locator("#orders tr[data-order]").first
    page.wait_for_function(
        "known => [...document.querySelectorAll('#orders tr[data-order]')].some(r => !known.includes(r.dataset.order))",
        arg=sorted(known), timeout=120_000,
    )
    order = newest.get_attribute("data-order")
    # The local seller fills an order in two takes and leaves its last 1% to
    # expire: the order stays Pending with its fills.
    expect(page.locator(f"#orders tr[data-order='{order}']")).not_to_have_attribute("data-fills", "0", timeout=120_000)
    expect(page.locator("#fills tbody tr td:first-child", has_text=f"#{order}").first).to_be_visible()
    assert page.evaluate("window.notReloaded")
    expect(page.locator("#tokens-burned .value")).not_to_have_text("0")
    shot(page, "revenue")


class Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        Receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_webhook_added_in_settings_gets_a_test_delivery(system: System, context: BrowserContext) -> None:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = context.new_page()
        sign_in(page, system, section="settings")
        page.fill("#hook-url", f"http://127.0.0.1:{server.server_port}/hooks")
        page.click("#hook-form button[type=submit]")
        expect(page.locator("#hook-secret")).to_have_text(re.compile("^whsec_"))
        hook = page.locator("#webhooks tr[data-hook]").last
        hook.get_by_role("button", name="Send test").click()
        delivered = page.locator("#delivery-log tr[data-event-type='webhook.test'][data-status='delivered']")
        expect(delivered).to_have_count(1, timeout=30_000)
        assert any(event["type"] == "webhook.test" for event in Receiver.received), Receiver.received
        shot(page, "settings-webhook")
    finally:
        server.shutdown()


def test_a_revoked_key_is_signed_out(system: System, browser: Browser, context: BrowserContext) -> None:
    admin = context.new_page()
    sign_in(admin, system, section="settings")
    admin.fill("#key-label", "wall screen")
    admin.click("#key-form button[type=submit]")
    made = admin.locator("#new-key").inner_text()
    key_id = made.split("_")[1]
    expect(admin.locator(f"#keys tr[data-key='{key_id}']")).to_contain_text("wall screen")
    other = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        screen = other.new_page()
        sign_in(screen, system, key=made)
        expect(screen.locator("#nav li[data-scope=admin]")).to_be_hidden()
        admin.on("dialog", lambda dialog: dialog.accept())
        admin.get_by_role("button", name=f"Revoke key {key_id}").click()
        expect(admin.locator(f"#keys tr[data-key='{key_id}']")).to_contain_text("revoked")
        expect(screen.locator("#sign-in")).to_be_visible(timeout=15_000)
        expect(screen.locator("#notice")).to_contain_text("revoked")
        shot(screen, "revoked")
    finally:
        other.close()


def test_the_proofs_page_verifies_a_reference_against_the_chain(system: System, context: BrowserContext) -> None:
    journal = system.state / "ledger" / "journal.sqlite3"
    deadline = time.monotonic() + 120
    while True:  # the keeper made the journal before scripts/run printed the dashboard's address
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
            found = db.execute("SELECT ref, amount_cents FROM revenue WHERE state = 'confirmed' LIMIT 1").fetchone()
        if found is not None or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert found is not None
    ref, cents = str(found[0]), int(found[1])
    page = context.new_page()
    sign_in(page, system, section="proofs")
    # Only whoever knows an event's amount gets its proof: a wrong one is as unknown as a wrong reference.
    for wrong_ref, wrong_amount in ((ref, f"{cents // 100 + 1}.{cents % 100:02d}"), ("no-such-ref", "1.00")):
        page.fill("#proof-ref", wrong_ref)
        page.fill("#proof-amount", wrong_amount)
        page.click("#proof-form button[type=submit]")
        expect(page.locator("#proof-error")).to_have_text("no revenue event with this reference and amount is confirmed on-chain")
    page.fill("#proof-ref", ref)
    page.fill("#proof-amount", f"{cents // 100}.{cents % 100:02d}")
    page.click("#proof-form button[type=submit]")
    expect(page.locator("#proof-title")).to_contain_text(f"Verified: {ref}")
    shot(page, "proofs")


def test_the_charges_page_exports_a_csv(system: System, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, system, section="charges")
    page.select_option("#f-status", "succeeded")
    page.click("#charge-filters button[type=submit]")
    expect(page.locator("#charge-totals table")).to_be_visible()
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = Path(download.value.path()).read_text()
    assert saved.startswith("request_id,status,service,amount_units,wallet,"), saved[:200]
    shot(page, "charges")


@pytest.mark.parametrize("width", [1440, 360])
def test_every_section_passes_contrast_and_fits_the_width(system: System, browser: Browser, width: int) -> None:
    made = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = made.new_page()
        sign_in(page, system)
        for section in ("overview", "revenue", "charges", "settings", "proofs"):
            page.goto(f"{system.url}#/{section}")
            expect(page.locator("#view")).not_to_have_attribute("aria-busy", "true")
            expect(page.locator("#view h2")).to_be_visible()
            page.wait_for_timeout(500)
            assert page.evaluate(CONTRAST) == [], section
            assert page.evaluate("document.documentElement.scrollWidth") <= width, section
            shot(page, f"{section}-{width}")
        page.goto(f"{system.url}#/overview")
        page.get_by_role("button", name="Sign out").click()
        assert page.evaluate(CONTRAST) == []
    finally:
        made.close()

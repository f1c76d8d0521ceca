"""Real headless Chromium, driven by Playwright, against pytest-django's live server.

Every page a browser test visits goes through ``check_page``: axe-core must find no WCAG 2.x A/AA
violation, the page must have made no request to another host and logged no error (a CSP
violation is logged as one), and it must reflow to a 320 px wide screen without scrolling sideways.
"""

import os
import shutil
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
WCAG_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
# Elder mode promises 7:1 contrast: axe's AAA contrast rule checks exactly that.
ENHANCED_CONTRAST = {
    "runOnly": {"type": "rule", "values": ["color-contrast-enhanced"]},
    "resultTypes": ["violations"],
}
LOCAL_HOSTS = {"localhost", "127.0.0.1"}
# WCAG 1.4.10 Reflow: content fits 320 CSS px (a 1280 px screen zoomed to 400 %) with no
# scrolling in two directions. Most residents browse on phones, many of them this narrow.
REFLOW_WIDTH = 320
REFLOW_HEIGHT = 800
# What sticks out past the right edge of the viewport, outermost boxes first: an element (or a
# run of text) inside a box that keeps its overflow to itself is allowed to. That is a box that
# scrolls sideways by itself, like a .table-wrap, or the 1 px clipped box of screen-reader-only
# text (.visually-hidden: the admin's table headings, its theme toggle's label), whose words run
# on unseen past the edge on one line and widen nothing.
SIDEWAYS_OVERFLOW = """() => {
  const root = document.documentElement;
  const limit = root.clientWidth + 0.5;
  const keepsItsOverflow = el => {
    const overflow = getComputedStyle(el).overflowX;
    if (/^(auto|scroll)$/.test(overflow)) return true;
    const box = el.getBoundingClientRect();
    return overflow !== "visible" && box.width <= 1 && box.height <= 1;
  };
  const keptInside = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (keepsItsOverflow(up)) return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map(c => "." + c).join("");
  const found = new Map();
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right > limit && !keptInside(el)) found.set(el, box);
  }
  const text = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (text.nextNode()) {
    const el = text.currentNode.parentElement;
    if (found.has(el) || !text.currentNode.textContent.trim()) continue;
    range.selectNodeContents(text.currentNode);
    const box = range.getBoundingClientRect();
    if (box.right > limit && !keptInside(text.currentNode)) found.set(el, box);
  }
  const outermost = [...found].filter(([el]) => {
    for (let up = el.parentElement; up; up = up.parentElement) if (found.has(up)) return false;
    return true;
  });
  return {
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    offenders: outermost.slice(0, 10).map(([el, box]) =>
      `${name(el)} reaches ${Math.round(box.right)}px (${Math.round(box.width)}px wide): `
      + JSON.stringify(el.textContent.trim().replace(/\\s+/g, " ").slice(0, 40))),
  };
}"""

axe = Axe()


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}. Install it with "
            "`apt-get install -y chromium` (Debian/Ubuntu), or point CHROMIUM_PATH at a "
            "Chromium binary. `.ci/run` installs it.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo_data(transactional_db):
    """The demo districts and communities, committed so the live server's thread sees them."""
    call_command("load_demo", "--no-accounts", verbosity=0)


@pytest.fixture
def demo_accounts(transactional_db):
    """The demo data with its demo accounts (password ``demo-portal-2026``)."""
    call_command("load_demo", verbosity=0)


@dataclass
class Watch:
    """What a page did besides rendering: requests to other hosts and console errors."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _context(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch()

    def on_request(request):
        if urlsplit(request.url).hostname not in LOCAL_HOSTS and request.url.startswith("http"):
            watch.outside.append(request.url)

    page.on("request", on_request)
    page.on("console", lambda msg: msg.type == "error" and watch.errors.append(msg.text))
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.watch = watch
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = _context(browser, live_server)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser, live_server):
    context, page = _context(browser, live_server, java_script_enabled=False)
    yield page
    context.close()


def check_page(page, *, elder: bool | None = None) -> None:
    """Assert the page is accessible and self-contained; in elder mode, also its promises."""
    page.wait_for_load_state("load")
    results = axe.run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    assert page.watch.outside == [], f"requests to other hosts from {page.url}"
    assert page.watch.errors == [], f"console errors on {page.url}: {page.watch.errors}"
    if elder is None:
        elder = "elder" in (page.locator("html").get_attribute("class") or "")
    if elder:
        check_elder_mode(page)
    check_reflow(page)


def check_reflow(page, width: int = REFLOW_WIDTH) -> None:
    """Assert the page fits ``width`` CSS px with no sideways scrolling; restore the viewport."""
    previous = page.viewport_size
    page.set_viewport_size({"width": width, "height": REFLOW_HEIGHT})
    try:
        result = page.evaluate(SIDEWAYS_OVERFLOW)
    finally:
        if previous:
            page.set_viewport_size(previous)
    fits = result["scrollWidth"] <= result["clientWidth"] and not result["offenders"]
    offenders = "\n  ".join(result["offenders"]) or "(no element found: look for a wide margin)"
    assert fits, (
        f"{page.url} does not fit {width}px: the page is {result['scrollWidth']}px wide in a "
        f"{result['clientWidth']}px window. Sticking out:\n  {offenders}"
    )


def check_elder_mode(page) -> None:
    results = axe.run(page, options=ENHANCED_CONTRAST)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    body_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 24, f"elder mode body text is {body_px}px on {page.url}"
    small = page.evaluate(
        """() => [...document.querySelectorAll('a, button, input, select, textarea, summary')]
            .filter(el => el.offsetParent !== null && !el.closest('p'))
            .filter(el => !el.classList.contains('skip-link'))
            .map(el => [el.textContent.trim() || el.name, el.getBoundingClientRect()])
            .filter(([, r]) => r.height < 48 || r.width < 48)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert small == [], f"targets smaller than 48px in elder mode on {page.url}: {small}"


def second_step(page, username: str, *, check: bool = True) -> None:
    """After the password: staff set up their authenticator on first sign-in (typing the key the
    page shows into the "app", here tests.conftest.totp_code) and keep their recovery codes; on
    later sign-ins they enter the app's code. Does nothing when no second step is asked. In
    either language: by ids, not by words."""
    from tests.conftest import key_on_page, next_code, totp_code

    page.wait_for_url(lambda url: "/accounts/login/" not in url and "/admin/login/" not in url)
    if "/accounts/two-factor/setup/" in page.url:
        if check:
            check_page(page)
        code = totp_code(key_on_page(page.content()))
        page.locator("#id_code").fill(code)
        page.locator("#main form.form button[type=submit]").click()
        if check:
            check_page(page)
        page.locator("#main a.button").click()  # "I have kept them: continue"
    elif "/accounts/two-factor/" in page.url:
        if check:
            check_page(page)
        page.locator("#id_code").fill(next_code(username))
        page.locator("#main form.form button[type=submit]").click()

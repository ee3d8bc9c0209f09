"""The dashboard in a real headless Chromium driven by Playwright: after real requests
through lynkr (the anthropic SDK against a scripted upstream), the page asks for the admin
key, shows the requests, the provider, the charts, the plugins and a session's transcript,
and logs no console error. A screenshot is kept (the test's tmp dir, and ``.artifacts/``).

Chromium is Debian's (``scripts/install-debian-packages``); Playwright's own browsers are
never downloaded.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path

import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/install-debian-packages)")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def run_turns(url: str, client_key: str) -> None:
    client = anthropic.Anthropic(base_url=url, api_key=client_key, max_retries=0)
    session = {"x-claude-code-session-id": "3f1c2a9e-session-in-the-browser"}
    client.messages.create(model="claude-sonnet-4-6", max_tokens=32, extra_headers=session,
                           messages=[{"role": "user", "content": "What is <b>lynkr</b>?"}])
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=32, extra_headers=session,
                                messages=[{"role": "user", "content": "And the dashboard?"}]) as stream:
        stream.get_final_message()
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(model="claude-haiku-4-5", max_tokens=32,
                               messages=[{"role": "user", "content": "this one fails"}])


def wait_for_usage(url: str, admin_key: str, requests: int) -> None:
    """Until lynkr-usage's ledger (written off the request path) holds ``requests``."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        request = urllib.request.Request(url + "/v1/usage?by=day", headers={"x-api-key": admin_key})
        with urllib.request.urlopen(request, timeout=5) as response:
            if json.loads(response.read())["total"]["requests"] >= requests:
                return
        time.sleep(0.1)
    raise AssertionError("lynkr-usage did not record the requests")


def keep_screenshot(page, tmp_path: Path) -> Path:
    """The screenshot in the test's tmp dir, copied to ``.artifacts/`` (git-ignored)."""
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    artifacts = REPO / ".artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copyfile(shot, artifacts / "dashboard.png")
    return shot


def test_the_dashboard_shows_a_real_run_in_chromium(browser, threaded_gateway, keys, tmp_path):
    fake = FakeAnthropic([
        Reply.text("A gateway. <script>alert(1)</script>", usage={"input_tokens": 21, "output_tokens": 9}),
        Reply.text("It draws charts.", usage={"input_tokens": 34, "output_tokens": 5}),
        ErrorReply(500, message="upstream broke"),
    ])
    fake.run_in_thread()
    try:
        # One failure opens a breaker: the failing last request leaves its circuit open.
        with threaded_gateway(fake, LYNKR_PLUGINS=keys.plugins + ",lynkr-usage",
                              LYNKR_CIRCUIT_BREAKER_FAILURES="1") as (_, url):
            run_turns(url, keys.client)
            wait_for_usage(url, keys.admin, 3)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            problems: list[str] = []
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))

            page.goto(url + "/dashboard")
            page.wait_for_selector("body[data-state=login]")
            page.fill("#key", keys.admin)
            page.click("#login button[type=submit]")
            page.wait_for_selector("body[data-state=ready]")

            rows = page.locator("#requests tbody tr")
            assert rows.count() == 3
            assert rows.nth(0).locator("td").nth(1).inner_text() == "500"
            assert "claude-sonnet-4-6" in rows.nth(2).inner_text()
            assert "21 / 9 / 0" in rows.nth(2).inner_text()
            provider = page.locator("#providers .card[data-provider=anthropic]")
            assert "3 attempts, 1 failed" in provider.inner_text()
            assert page.locator("#providers .health i.failed").count() == 1
            circuit = provider.locator(".circuit[data-state=open]")
            assert circuit.count() == 1
            assert "open, retry in" in circuit.inner_text() and "opened 1x" in circuit.inner_text()
            assert page.locator("#chart-requests svg rect").count() == 1
            assert page.locator("#chart-tokens svg rect").count() == 2
            assert page.locator("#chart-cost svg rect").count() == 1  # one day of cost
            assert float(page.locator("#chart-cost svg rect").get_attribute("height")) > 50
            usage = page.locator("#usage-table").inner_text()
            assert "3 requests" in usage and "USD" in usage
            assert page.locator("#usage-table tr").count() == 2  # header and today
            assert "not in LYNKR_PLUGINS" in page.locator("#plugins tr[data-plugin=lynkr-cache]").inner_text()
            assert "enabled" in page.locator("#plugins tr[data-plugin=lynkr-dashboard]").inner_text()
            sessions_queue = page.locator("#queues tr[data-queue=sessions] td")
            assert [sessions_queue.nth(i).inner_text() for i in (0, 2, 3, 4)] == ["sessions", "100", "0", "0"]

            page.click("#sessions button[data-session='3f1c2a9e-session-in-the-browser']")
            page.wait_for_selector("#transcript .turn.assistant >> nth=1")
            transcript = page.locator("#transcript").inner_text()
            assert "What is <b>lynkr</b>?" in transcript  # shown as text, not markup
            assert "<script>alert(1)</script>" in transcript
            assert "It draws charts." in transcript

            shot = keep_screenshot(page, tmp_path)
            page.close()
    finally:
        fake.stop_thread()

    assert problems == []
    assert shot.stat().st_size > 10_000
    assert all(u.startswith(url) or u.startswith("data:") for u in requested)  # nothing from elsewhere
    assert not any(keys.admin in u for u in requested)  # the key never travels in a URL


def test_a_wrong_key_is_asked_again_and_missing_plugins_show_not_installed(browser, threaded_gateway, keys):
    fake = FakeAnthropic([])
    fake.run_in_thread()
    try:
        with threaded_gateway(fake, LYNKR_PLUGINS="lynkr-provider-anthropic,lynkr-dashboard") as (_, url):
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(url + "/dashboard")
            page.fill("#key", keys.client)  # a client key is not an admin key
            page.click("#login button[type=submit]")
            page.wait_for_selector("body[data-state=login] #login-error:has-text('admin key')")
            page.fill("#key", keys.admin)
            page.click("#login button[type=submit]")
            page.wait_for_selector("body[data-state=ready]")
            sessions = page.locator("#sessions").inner_text()
            cost = page.locator("#chart-cost").inner_text()
            empty = page.locator("#providers").inner_text()
            page.reload()  # the key is kept for the tab
            page.wait_for_selector("body[data-state=ready]")
            page.click("#forget")
            forgotten = page.evaluate("sessionStorage.length")
            page.close()
    finally:
        fake.stop_thread()

    assert "lynkr-sessions: not installed" in sessions
    assert "lynkr-usage: not installed" in cost
    assert "No provider called yet." in empty
    assert forgotten == 0
    # The only console error is the browser's own line about the refused (401) request.
    assert len(problems) == 1 and "401" in problems[0], problems

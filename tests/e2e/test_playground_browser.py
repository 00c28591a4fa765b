"""The playground in a real browser: headless Chromium (Debian's package) driven by Playwright.

Walks login, a call pop with contact creation, call log, edit, and an SMS conversation on the
demo connector, asserting what the page shows; saves a screenshot to tests/artifacts/.
Skips (with the reason) where Chromium or Playwright is missing; `.ci/run` installs Chromium.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e._server import CLI, clean_env, free_port, running

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                         else None)  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# As the machine notes say: no sandbox as root, and no background connections to Google.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if CHROMIUM is None:
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/pg.db", APPCONNECT_LOG_LEVEL="warning")
    args = [CLI, "serve", "--playground", "--port", str(port)]
    with running(args, cwd=tmp_path, env=env, ready_url=f"{base}/isAlive"):
        yield base


def test_the_playground_walks_a_call_and_a_conversation(playground: str) -> None:
    expect = sync_api.expect
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(f"{playground}/playground")
            expect(page.locator("#platform")).to_contain_text("Demo CRM")

            # Log in with the keyboard only: type the key, Enter submits the form.
            page.fill("#api-key", "browser-key")
            page.press("#api-key", "Enter")
            expect(page.locator("#status")).to_have_text("Logged in to demo as Demo User.")

            # A known number matches a sample contact.
            page.fill("#phone", "+1 650-555-0100")
            page.click("#pop-call")
            expect(page.locator("#matches")).to_contain_text("Ada Lovelace")

            # An unknown number: no match, create the contact, it becomes the match.
            page.fill("#phone", "+1 650-555-0177")
            page.click("#pop-call")
            expect(page.locator("#no-match")).to_be_visible()
            page.fill("#contact-name", "Browser Contact")
            page.click("#create-contact")
            expect(page.locator("#matches")).to_contain_text("Browser Contact")

            # Log the call with a note, then edit it.
            page.fill("#subject", "Inbound call from Browser Contact")
            page.fill("#note", "First note from the browser")
            page.click("#log-call")
            expect(page.locator("#log-result")).to_contain_text("Call logged (log id")
            crm = page.locator("#crm-view")
            expect(crm).to_contain_text("- Note: First note from the browser")
            expect(crm).to_contain_text("Inbound call from Browser Contact")
            page.fill("#note", "Edited in the browser")
            page.focus("#edit-call")
            page.keyboard.press("Enter")
            expect(page.locator("#log-result")).to_contain_text("updated")
            expect(crm).to_contain_text("- Note: Edited in the browser")
            expect(crm).not_to_contain_text("First note from the browser")

            # An SMS conversation: two messages, logged together.
            page.fill("#sms-text", "Is the quote ready?")
            page.press("#sms-text", "Enter")
            page.select_option("#sms-direction", "Outbound")
            page.fill("#sms-text", "Yes, sending it now")
            page.click("#add-sms")
            expect(page.locator("#sms-list li")).to_have_count(2)
            page.click("#log-sms")
            expect(page.locator("#sms-result")).to_contain_text("Conversation logged (2 message")
            expect(crm).to_contain_text("SMS conversation with Browser Contact")
            expect(crm).to_contain_text("Yes, sending it now")

            # Every exchange is listed, newest first.
            exchanges = page.locator("#exchanges")
            for line in ("POST /apiKeyLogin → 200", "POST /contact → 200", "POST /callLog → 200",
                         "PATCH /callLog → 200", "POST /messageLog → 200"):  # fmt: skip
                expect(exchanges).to_contain_text(line)
            expect(page.locator("#exchanges li").first).to_contain_text("GET /playground/crm")

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "playground.png").stat().st_size > 10_000


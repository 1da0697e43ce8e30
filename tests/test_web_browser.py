"""The app as people use it: headless Chromium (Debian's) driven by Playwright."""
import shutil
from pathlib import Path

import pytest

from tests.webapp import running_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(),
                    reason="Chromium is not installed and could not be installed (apt-get install chromium)")
def test_two_turn_conversation_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with running_app(tmp_path) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url)
        box = page.locator("#message textarea")
        box.fill("a house track")
        box.press("Enter")
        chat = page.locator("#chat")
        option = chat.get_by_role("button", name="123 BPM, mid-tempo")
        expect(option).to_be_visible(timeout=30000)
        option.click()
        expect(chat.locator("audio").first).to_be_attached(timeout=60000)
        expect(page.locator("#brief")).to_contain_text("123", timeout=10000)
        page.screenshot(path=str(tmp_path / "two-turns.png"), full_page=True)
        browser.close()
    assert (tmp_path / "two-turns.png").stat().st_size > 10000

"""The browser the dashboard tests drive is Debian's Chromium, reached without any download."""

from __future__ import annotations


def test_chromium_renders_a_page_offline(browser) -> None:
    page = browser.new_page()
    try:
        page.set_content("<p id=x>heartkeep</p>")
        assert page.text_content("#x") == "heartkeep"
    finally:
        page.close()

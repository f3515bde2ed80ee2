"""Log in to Superset in headless Chromium, open the provisioned dashboard, and take its screenshot.

Prints JSON: how many charts rendered (a canvas, an SVG or a table with rows inside the chart), which show
an error panel, and the console errors, so a test (or a person after an upgrade) can tell a working
dashboard from a blank page. Uses Debian's Chromium (/usr/bin/chromium): Playwright's own browser
download is not needed.

    python screenshot.py --url http://127.0.0.1:8088 --out dashboard.png
    (CRM_SUPERSET_ADMIN_USER / CRM_SUPERSET_ADMIN_PASSWORD from the environment)
"""

from __future__ import annotations

import argparse
import json
import os

from playwright.sync_api import sync_playwright
from provision import DASHBOARD_SLUG

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Per chart holder: did something draw, and did Superset put an error panel in it?
CHART_STATE_JS = """
() => [...document.querySelectorAll('.dashboard-component-chart-holder')].map(holder => ({
    name: (holder.querySelector('.header-title, [data-test="editable-title"]') || {}).innerText || '',
    drawn: holder.querySelectorAll('canvas, svg path, table tbody tr').length > 0,
    error: holder.querySelector('.alert-danger, [data-test="error-message"], .ant-alert-error') !== null,
}))
"""


def capture(url: str, out: str, user: str, password: str, browser_path: str) -> dict[str, object]:
    console_errors: list[dict[str, str]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.on(
            "console",
            lambda message: (
                console_errors.append({"text": message.text, "url": message.location.get("url", "")})
                if message.type == "error"
                else None
            ),
        )
        page.goto(f"{url}/login/")
        page.fill("input[name=username], #username", user)
        page.fill("input[name=password], #password", password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda current: "/login" not in current, timeout=60_000)
        page.goto(f"{url}/superset/dashboard/{DASHBOARD_SLUG}/?standalone=1")
        page.wait_for_selector(".dashboard-component-chart-holder", timeout=120_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.dashboard-component-chart-holder')].every("
            "h => h.querySelector('canvas, svg path, table tbody tr, .alert-danger, [data-test=\"error-message\"]'))",
            timeout=120_000,
        )
        page.wait_for_timeout(1500)  # let the charts' entry animations finish before the picture
        charts = page.evaluate(CHART_STATE_JS)
        page.screenshot(path=out, full_page=True)
        browser.close()
    return {"screenshot": out, "charts": charts, "console_errors": console_errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8088")
    parser.add_argument("--out", required=True)
    parser.add_argument("--browser", default="/usr/bin/chromium")
    args = parser.parse_args()
    result = capture(
        args.url.rstrip("/"),
        args.out,
        os.environ.get("CRM_SUPERSET_ADMIN_USER", "admin"),
        os.environ["CRM_SUPERSET_ADMIN_PASSWORD"],
        args.browser,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Browser fixtures: Playwright driving headless Chromium.

Uses Debian's /usr/bin/chromium where it exists (CI installs it), else Playwright's own Chromium
(`python -m playwright install chromium`). Without any browser the tests fail and say how to get one.
"""
import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (creating users, reading results) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SYSTEM_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
NO_BROWSER = ("No browser for the browser tests. Install Debian's Chromium (apt-get install -y chromium) "
              "or Playwright's own (python -m playwright install chromium).")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import Error, sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or (SYSTEM_CHROMIUM if os.path.exists(SYSTEM_CHROMIUM) else
                                                      shutil.which("chromium"))
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(headless=True, executable_path=executable, args=CHROMIUM_ARGS)
        except Error as exc:
            pytest.fail(f"{NO_BROWSER}\n({exc.message.splitlines()[0]})", pytrace=False)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    def do(username: str, password: str):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    return do

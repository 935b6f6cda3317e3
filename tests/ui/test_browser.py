"""The UI in a real headless Chromium, against the real API over the real index of the shipped notes.

Debian's /usr/bin/chromium and /usr/bin/chromedriver are required (`make browser` installs them); the test fails,
never skips, when they are missing. Screenshots go to .artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from chromium import PROJECT, BrowserMissing, api_and_ui, chromium_driver

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = PROJECT / ".artifacts" / "screenshots"
CITATION = re.compile(r"aws-[\w.-]+\.(?:md|txt):\d+")
QUESTION = "How long are messages kept in SQS?"


@pytest.fixture(scope="module")
def servers(real_index_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """(api_url, ui_url): `kb serve` over the real index and `streamlit run ui/app.py` pointed at it."""
    with api_and_ui(real_index_dir, tmp_path_factory.mktemp("servers")) as urls:
        yield urls


@pytest.fixture
def browser(tmp_path: Path):
    try:
        driver = chromium_driver(tmp_path / "chromium-profile")
    except BrowserMissing as exc:
        pytest.fail(str(exc))
    driver.set_window_size(1440, 1000)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout: float, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)
    except TimeoutException:
        save_screenshot(driver, f"FAILED-{what.replace(' ', '-')}")
        body = driver.find_element("tag name", "body").text[-2000:]
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; the page said:\n{body}")


def save_screenshot(driver, name: str) -> Path:
    """The whole page, not just the window: grow the window to the content's height first."""
    height = driver.execute_script(
        "return Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    driver.set_window_size(1440, min(max(height + 40, 1000), 6000))
    driver.execute_script("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
    time.sleep(0.5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1440, 1000)
    return path


def plain(text: str) -> str:
    """Answer text as the page shows it: no [n] markers, no markdown emphasis, single spaces."""
    return " ".join(re.sub(r"\*\*|`", "", text).split())


def test_ask_shows_the_answer_and_its_citations(servers, browser, figures):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    api_url, ui_url = servers
    expected = httpx.post(f"{api_url}/ask", json={"question": QUESTION}, timeout=120).json()
    browser.get(ui_url + "/")
    box = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, 'input[aria-label="Question"]'), 60, "the question box")
    box.send_keys(QUESTION)
    started = time.perf_counter()
    box.send_keys(Keys.ENTER)
    selector = ".kb-abstain" if expected["abstained"] else ".kb-answer"
    rendered = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, selector), 120, "the answer")
    figures["browser: submit to rendered answer (one question)"] = f"{time.perf_counter() - started:.2f} s"

    answer_text = " ".join(rendered[0].text.split())
    for sentence in re.split(r"\[\d+\]", expected["answer"]):
        if sentence.strip() and not expected["abstained"]:
            assert plain(sentence) in answer_text
    page = browser.find_element(By.TAG_NAME, "body").text
    assert CITATION.search(page), "no citation like aws-...:LINE on the page"
    for citation in expected["citations"]:
        assert f"{citation['file']}:{citation['start_line']}" in page
    assert browser.find_elements(By.CSS_SELECTOR, ".kb-hit"), "no highlighted cited line"
    assert "Traceback" not in page
    # The first cited passage, read in place: its expander fetches /passages/{id} and shows the lines around it.
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stExpander"] summary').click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".kb-muted"), 60, "the surrounding lines")
    path = save_screenshot(browser, "ask")
    assert path.stat().st_size > 10_000


def test_compare_shows_sqs_sns_and_kinesis_side_by_side(servers, browser):
    from selenium.webdriver.common.by import By

    _, ui_url = servers
    browser.get(ui_url + "/compare")
    chosen = wait_for(
        browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stMultiSelect"]'), 60, "the service picker"
    )[0].text
    assert all(name in chosen for name in ("SQS", "SNS", "Kinesis")), chosen
    button = browser.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button')
    assert button.text.strip() == "Compare"
    button.click()
    table = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "table.kb-compare"), 180, "the comparison table")[0]
    headers = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers[0] == "Aspect" and len(headers) == 4
    assert any("SQS" in h for h in headers) and any("SNS" in h for h in headers) and any("Kinesis" in h for h in headers)
    assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 1
    page = browser.find_element(By.TAG_NAME, "body").text
    assert CITATION.search(page), "no citation like aws-...:LINE on the page"
    assert "Traceback" not in page
    save_screenshot(browser, "compare")

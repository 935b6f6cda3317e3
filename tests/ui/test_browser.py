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

    from selenium.common.exceptions import StaleElementReferenceException

    try:
        # Streamlit redraws elements on every rerun: one found a moment ago may be gone; look again.
        waiting = WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))
        return waiting.until(condition)
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


def test_compare_downloads_are_what_the_api_exports(servers, browser, tmp_path: Path):
    """The Markdown and CSV buttons save GET /compare/export's text, the files `kb compare --format` writes."""
    from selenium.webdriver.common.by import By

    api_url, ui_url = servers
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    browser.get(ui_url + "/compare")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button'), 60, "the form")
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".st-key-compare_csv button"), 180, "the download buttons")
    browser.find_element(By.CSS_SELECTOR, ".st-key-compare_md button").click()
    browser.find_element(By.CSS_SELECTOR, ".st-key-compare_csv button").click()
    saved = lambda _: sorted(p for p in downloads.iterdir() if p.suffix in (".md", ".csv"))  # noqa: E731
    wait_for(browser, lambda d: len(saved(d)) == 2, 180, "both files saved")
    services = ["sqs", "sns", "kinesis-data-streams"]
    for path in saved(browser):
        expected = httpx.get(
            f"{api_url}/compare/export", params={"services": services, "format": path.suffix[1:]}, timeout=180
        ).text
        assert path.name.startswith("sqs-vs-sns-vs-kinesis")
        assert path.read_text(encoding="utf-8") == expected


def chips(driver) -> list[str]:
    """The services chosen in Compare's picker, in order."""
    from selenium.webdriver.common.by import By

    pickers = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMultiSelect"]')
    if not pickers:  # the page is still loading
        return []
    picker = pickers[0]
    names = [e.get_attribute("aria-label").removeprefix("Remove ") for e in picker.find_elements(By.CSS_SELECTOR, '[aria-label^="Remove "]')]
    return list(dict.fromkeys(names))


def test_compare_enter_adds_exactly_the_best_match(servers, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _, ui_url = servers
    browser.get(ui_url + "/compare")
    wait_for(browser, lambda d: len(chips(d)) == 3, 60, "the three example services")
    box = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stMultiSelect"] input')[0]
    for typed in ("ALB", "Lambda"):
        before = chips(browser)
        box.click()
        box.send_keys(typed)
        # Enter once the dropdown has filtered down to what was typed: its first row is then the best match.
        wait_for(browser, lambda d: [o.text for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]')][:1] == [typed], 10, f"{typed} first in the dropdown")
        box.send_keys(Keys.ENTER)
        wait_for(browser, lambda d: len(chips(d)) > len(before), 10, f"a chip for {typed}")
        time.sleep(0.5)  # had Enter added several, they would all be there by now
        assert chips(browser) == [*before, typed], chips(browser)
    box.send_keys(Keys.ESCAPE)
    save_screenshot(browser, "compare-enter")


SG_QUESTION = "What is the difference between security groups and NACLs?"


def test_ask_has_a_url_that_survives_a_reload_and_history_keeps_only_about(servers, browser):
    from urllib.parse import parse_qs, urlparse

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def answered(question: str):
        return lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".kb-answer, .kb-abstain") if e.get_attribute("data-question") == question]

    def url_question() -> str:
        return parse_qs(urlparse(browser.current_url).query).get("q", [""])[0]

    _, ui_url = servers
    browser.get(f"{ui_url}/?q={SG_QUESTION.replace(' ', '+').replace('?', '%3F')}")
    wait_for(browser, answered(SG_QUESTION), 60, "the answer to the linked question")
    # A table in the notes is a table, its header row on top ("Security Group | NACL", aws-saa-notes.txt:4645).
    table = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "table.kb-table"), 10, "a note table")[0]
    assert [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")][1:3] == ["Security Group", "NACL"]
    assert "Operates at the instance level" in table.text
    save_screenshot(browser, "ask-table")

    box = browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Question"]')
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(QUESTION, Keys.ENTER)
    wait_for(browser, answered(QUESTION), 60, "the second answer")
    wait_for(browser, lambda d: url_question() == QUESTION, 10, "the URL to follow the question")

    history = [b for b in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"] button') if SG_QUESTION in b.text]
    history[0].click()
    wait_for(browser, answered(SG_QUESTION), 60, "the answer from the history")
    # The selectbox shows its value in its input; "Choose an option" is the placeholder of an empty one.
    only_about = browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Only about"]').get_attribute("value")
    assert only_about == "All services", only_about
    assert url_question() == SG_QUESTION

    browser.refresh()
    wait_for(browser, answered(SG_QUESTION), 60, "the answer after a reload")


def test_a_citation_opens_its_note_on_browse_at_its_line(servers, browser):
    from selenium.webdriver.common.by import By

    api_url, ui_url = servers
    expected = httpx.post(f"{api_url}/ask", json={"question": QUESTION}, timeout=60).json()
    first = min(expected["citations"], key=lambda c: c["n"])
    browser.get(f"{ui_url}/?q={QUESTION.replace(' ', '+').replace('?', '%3F')}")
    link = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".kb-footnotes a.kb-loc"), 60, "the footnotes")[0]
    assert link.text == f"{first['file']}:{first['start_line']}" + (f"-{first['end_line']}" if first["end_line"] != first["start_line"] else "")
    link.click()  # opens a new tab: the answer stays where it was
    browser.switch_to.window(browser.window_handles[-1])
    line = wait_for(browser, lambda d: d.find_elements(By.ID, f"kb-L{first['start_line']}"), 60, "the cited line in its note")[0]
    assert "kb-hit" in line.get_attribute("class")
    assert first["quote"].split()[0] in line.text
    in_view = "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;"
    wait_for(browser, lambda d: d.execute_script(in_view, line), 10, "the cited line scrolled into view")
    browser.save_screenshot(str(SCREENSHOTS / "browse-note-at-line.png"))


class _SlowApi:
    """An HTTP server that accepts every request and never answers in time (it sleeps `delay_s`)."""

    def __init__(self, delay_s: float) -> None:
        import http.server
        import threading

        delay = delay_s

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                time.sleep(delay)
                self.send_response(503)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_slow_api_shows_a_spinner_then_a_clear_message_within_10_s(browser, tmp_path, figures):
    import sys

    from selenium.webdriver.common.by import By

    from kb.testing import free_port, running, server_env, wait_http

    slow = _SlowApi(delay_s=30)
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.port", str(port), "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    try:
        with running(command, tmp_path / "ui.log", server_env(KB_API_URL=slow.url), cwd=PROJECT) as ui:
            wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60, ui, tmp_path / "ui.log")
            started = time.perf_counter()
            browser.get(f"http://127.0.0.1:{port}/")
            body = lambda d: d.find_element(By.TAG_NAME, "body").text  # noqa: E731
            wait_for(browser, lambda d: f"Contacting the notes-kb API at {slow.url}" in body(d), 8, "the spinner")
            spinner_s = time.perf_counter() - started
            wait_for(browser, lambda d: "did not answer in time" in body(d), 12, "the timeout message")
            message_s = time.perf_counter() - started
            assert message_s < 10, f"the message came {message_s:.1f} s after the page was opened"
            assert "Try again" in body(browser) and slow.url in body(browser)
            save_screenshot(browser, "slow-api")
    finally:
        slow.close()
    assert spinner_s < message_s
    figures["browser: slow API, spinner / timeout message after"] = f"{spinner_s:.1f} s / {message_s:.1f} s"

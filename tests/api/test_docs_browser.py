"""/docs and /redoc in a real headless Chromium that can reach nothing but 127.0.0.1: the API serves the Swagger UI
and ReDoc files itself (fastapi-offline ships them), so both pages work offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT
from tests.ui.chromium import NO_NETWORK_FLAGS, BrowserMissing, chromium_driver

pytestmark = pytest.mark.browser

SCREENSHOTS = PROJECT_ROOT / ".artifacts" / "screenshots"


@pytest.fixture
def offline_browser(tmp_path: Path):
    try:
        driver = chromium_driver(tmp_path / "profile", NO_NETWORK_FLAGS)
    except BrowserMissing as exc:
        pytest.fail(str(exc))
    yield driver
    driver.quit()


def loaded_from(driver) -> set[str]:
    """The origins of every resource the page loaded (scripts, styles, fetches)."""
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {"/".join(url.split("/")[:3]) for url in urls}


def test_docs_and_redoc_work_with_no_network(api_server: str, offline_browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = offline_browser
    driver.get(f"{api_server}/docs")
    WebDriverWait(driver, 30, poll_frequency=0.1).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= 8)
    operations = {
        (element.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text, element.find_element(By.CSS_SELECTOR, ".opblock-summary-path").text.replace("\u200b", ""))
        for element in driver.find_elements(By.CSS_SELECTOR, ".opblock")
    }
    assert {("GET", "/search"), ("POST", "/ask"), ("POST", "/compare"), ("GET", "/passages/{passage_id}")} <= operations
    assert loaded_from(driver) == {api_server}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "api-docs-offline.png"))

    driver.get(f"{api_server}/redoc")
    WebDriverWait(driver, 30, poll_frequency=0.1).until(
        lambda d: "Search the notes" in d.find_element(By.TAG_NAME, "body").text
    )
    assert "Answer a question from the notes, with citations" in driver.find_element(By.TAG_NAME, "body").text
    # ReDoc's one outside request is Redocly's logo in its footer, an <img> it removes when it fails to load.
    assert loaded_from(driver) - {"https://cdn.redoc.ly"} == {api_server}
    assert not driver.find_elements(By.CSS_SELECTOR, "img[alt='redocly logo']")
    driver.save_screenshot(str(SCREENSHOTS / "api-redoc-offline.png"))

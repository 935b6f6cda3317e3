"""Time from pressing Enter to a rendered answer in a real headless Chromium, over ten questions.

usage: python bench/ui_latency.py [--index DIR] [--api-url URL --ui-url URL] [--runs N]

Without --ui-url it starts `kb serve` over the index (default KB_INDEX_DIR or data/index) and the Streamlit UI on free
ports. One browser session asks the questions in turn, as a student would; an answer counts as rendered when the
answer box (or the abstention notice) for that exact question is in the page. One warm-up question is not counted.
Prints each time and the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests" / "ui"))

from chromium import api_and_ui, chromium_driver  # noqa: E402

from kb.config import get_settings  # noqa: E402
from kb.testing import LOAD_QUESTIONS  # noqa: E402

QUESTIONS = LOAD_QUESTIONS[:10]

RENDERED = """
const q = arguments[0];
return [...document.querySelectorAll('.kb-answer, .kb-abstain')].some(e => e.dataset.question === q);
"""


def ask_and_time(driver, question: str, timeout: float = 120.0) -> float:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(driver, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, 'input[aria-label="Question"]'))
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(question)
    started = time.perf_counter()
    box.send_keys(Keys.ENTER)
    WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: d.execute_script(RENDERED, question))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--api-url", default=None)
    parser.add_argument("--ui-url", default=None)
    parser.add_argument("--runs", type=int, default=len(QUESTIONS))
    args = parser.parse_args()

    index_dir = args.index or get_settings().index_dir
    servers = nullcontext((args.api_url, args.ui_url)) if args.ui_url else api_and_ui(index_dir, Path(tempfile.mkdtemp()) / "logs")
    with servers as (_, ui_url), tempfile.TemporaryDirectory() as profile:
        driver = chromium_driver(Path(profile))
        try:
            driver.get(ui_url + "/")
            ask_and_time(driver, "What is SQS?")  # warm-up: first render, model and caches
            times = []
            for i in range(args.runs):
                question = QUESTIONS[i % len(QUESTIONS)]
                seconds = ask_and_time(driver, question)
                times.append(seconds)
                print(f"{seconds:6.2f} s  {question}")
        finally:
            driver.quit()
    print(f"median submit -> rendered answer over {len(times)} questions: {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f})")


if __name__ == "__main__":
    main()

"""Starting Debian's chromium (never a downloaded browser), the API and the UI on free ports, for the browser test
and bench/ui_latency.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kb.testing import free_port, running, serve_command, server_env, wait_http

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1440,1000",
]


class BrowserMissing(RuntimeError):
    pass


# Every host name but the loopback's fails to resolve: a page that fetches anything from the internet (a CDN)
# shows it broken, whether or not this machine has a network.
NO_NETWORK_FLAGS = ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost']


def chromium_driver(user_data_dir: Path, extra_flags: Sequence[str] = ()):
    """A headless Chromium driven through Debian's chromedriver, with a fresh profile."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        raise BrowserMissing(
            f"missing {', '.join(missing)}: install Debian's browser with "
            "`apt-get update && apt-get install -y chromium chromium-driver` (`make browser` does it)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    # Service with an explicit path: selenium-manager never runs, so nothing is downloaded.
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@contextmanager
def api_and_ui(index_dir: Path, logs: Path) -> Iterator[tuple[str, str]]:
    """The real API over index_dir and the Streamlit UI pointed at it, each on a free port: (api_url, ui_url)."""
    logs.mkdir(parents=True, exist_ok=True)
    api_port, ui_port = free_port(), free_port()
    api_url, ui_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
    api_cmd = serve_command(index_dir, api_port)
    ui_cmd = [
        sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.port", str(ui_port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    api_env = server_env(TOKENIZERS_PARALLELISM="false")
    ui_env = server_env(TOKENIZERS_PARALLELISM="false", KB_API_URL=api_url)
    with running(api_cmd, logs / "api.log", api_env, cwd=PROJECT) as api:
        with running(ui_cmd, logs / "ui.log", ui_env, cwd=PROJECT) as ui:
            wait_http(f"{api_url}/health", 180, api, logs / "api.log")
            wait_http(f"{ui_url}/_stcore/health", 60, ui, logs / "ui.log")
            yield api_url, ui_url

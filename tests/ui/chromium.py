"""Starting Debian's chromium (never a downloaded browser), the API and the UI on free ports, for the browser test
and bench/ui_latency.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium_driver(user_data_dir: Path):
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
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    # Service with an explicit path: selenium-manager never runs, so nothing is downloaded.
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Wait until url answers 200; fail with the process's log when it died or never came up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up within {timeout:.0f} s\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-3000:] if log and log.exists() else ""


@contextmanager
def running(command: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A server process for the length of the block; stopped (by its own pid) afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra})
    return env


@contextmanager
def api_and_ui(index_dir: Path, logs: Path) -> Iterator[tuple[str, str]]:
    """The real API over index_dir and the Streamlit UI pointed at it, each on a free port: (api_url, ui_url)."""
    logs.mkdir(parents=True, exist_ok=True)
    api_port, ui_port = free_port(), free_port()
    api_url, ui_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
    api_cmd = [sys.executable, "-m", "kb.cli", "serve", "--port", str(api_port), "--index", str(index_dir)]
    ui_cmd = [
        sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.port", str(ui_port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    with running(api_cmd, logs / "api.log", server_env()) as api:
        with running(ui_cmd, logs / "ui.log", server_env(KB_API_URL=api_url)) as ui:
            wait_http(f"{api_url}/health", 180, api, logs / "api.log")
            wait_http(f"{ui_url}/_stcore/health", 60, ui, logs / "ui.log")
            yield api_url, ui_url



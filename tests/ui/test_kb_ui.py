"""`kb ui` stops its Streamlit child with it, so the port is free for the next start."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from kb.testing import free_port, kb_command, server_env, wait_http
from tests.conftest import PROJECT_ROOT


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_ui(port: int, log: Path) -> subprocess.Popen:
    # The API is not needed to serve the page's shell; a closed port stands in for it.
    env = server_env(KB_API_URL=f"http://127.0.0.1:{free_port()}")
    process = subprocess.Popen(
        [*kb_command(), "ui", "--port", str(port)], cwd=PROJECT_ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60, process, log)
    return process


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port`, read from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def wait_free(port: int, timeout: float = 15) -> float:
    started = time.monotonic()
    while not port_is_free(port):
        assert time.monotonic() - started < timeout, f"port {port} still answers {timeout:.0f} s after kb ui was stopped"
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_kb_ui_stops_streamlit_and_restarts_on_the_same_port(tmp_path: Path, stop: signal.Signals, figures) -> None:
    port = free_port()
    log = tmp_path / "ui.log"
    first = start_ui(port, log)
    # 127.0.0.1 only (0100007F in /proc's byte order), never every interface (00000000): the UI has no login.
    assert listening_addresses(port) == {"0100007F"}
    try:
        first.send_signal(stop)
        first.wait(timeout=15)
        # SIGKILL leaves kb ui no chance to forward it: Streamlit gets SIGTERM from the kernel as its parent dies.
        figures[f"kb ui: port free after {stop.name}"] = f"{wait_free(port):.2f} s"
    finally:
        if first.poll() is None:
            first.kill()
    if stop != signal.SIGKILL:
        assert first.returncode == 0, log.read_text(errors="replace")
    second = start_ui(port, log)  # the same port: it would fail with "Port ... is not available" had Streamlit stayed
    try:
        second.terminate()
        assert second.wait(timeout=15) == 0
        wait_free(port)
    finally:
        if second.poll() is None:
            second.kill()

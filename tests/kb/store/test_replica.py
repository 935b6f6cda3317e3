"""An index folder as a cache of shared builds (kb/store/replica.py): what a killed fetch leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kb.store.replica import remove_abandoned_fetches


def test_a_fetch_whose_process_is_gone_leaves_nothing_behind(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead, alive = int(finished.stdout), os.getpid()
    abandoned = tmp_path / f".fetch-20261207T000000-abcd1234-{dead}-1"
    running = tmp_path / f".fetch-20261207T000000-abcd1234-{alive}-2"
    for folder in (abandoned, running):
        (folder / "chunks.jsonl").parent.mkdir(parents=True)
        (folder / "chunks.jsonl").write_text("{}\n")
    remove_abandoned_fetches(tmp_path)
    assert not abandoned.exists()
    assert (running / "chunks.jsonl").exists()  # a fetch still running in a live process is left alone

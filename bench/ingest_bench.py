"""Ingest figures: full, no-change and one-file-edit rebuilds (wall clock of `kb ingest`), chunk sizes, dev-set quality.

Usage: python bench/ingest_bench.py [--notes DIR]
Works on a copy of the notes in a temporary directory, so data/index is never touched.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kb.config import PROJECT_ROOT

EDITED_FILE = "aws-developer-notes.md"


def kb(*args: str) -> tuple[float, dict]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"kb {' '.join(args)} failed: {proc.stderr}")
    return seconds, json.loads(proc.stdout) if proc.stdout.strip().startswith(("{", "[")) else {}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", default=str(PROJECT_ROOT / "data" / "notes"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    notes, index = work / "notes", work / "index"
    shutil.copytree(args.notes, notes)
    try:
        full_s, full = kb("ingest", "--notes", str(notes), "--index", str(index), "--json")
        noop_s, _ = kb("ingest", "--notes", str(notes), "--index", str(index), "--json")
        same_s, same = kb("ingest", "--notes", str(notes), "--index", str(index), "--json", "--force")
        path = notes / EDITED_FILE
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[1260] = lines[1260] + " (edited for the benchmark)"
        path.write_text("\n".join(lines), encoding="utf-8")
        edit_s, edit = kb("ingest", "--notes", str(notes), "--index", str(index), "--json")
        print(f"full rebuild:      {full_s:6.1f} s wall ({full['seconds']:.1f} s in build), {full['chunks']} chunks, "
              f"{full['lines']} lines, {full['reembedded']} texts embedded, {full['chunks'] / full_s:.0f} chunks/s")
        print(f"no-change ingest:  {noop_s:6.1f} s wall (sees nothing changed and keeps the index)")
        print(f"no-change rebuild: {same_s:6.1f} s wall with --force ({same['seconds']:.1f} s in build), "
              f"re-embedded {same['reembedded']}")
        print(f"one-file edit:     {edit_s:6.1f} s wall ({edit['seconds']:.1f} s in build), re-embedded {edit['reembedded']}"
              f" ({edit_s / full_s:.0%} of full)")

        from ingest.build import chunk_notes
        from ingest.notes import note_paths, read_note
        from kb.config import Settings
        from kb.embedder import get_embedder

        settings = Settings()
        embedder = get_embedder(settings)
        read = [read_note(p) for p in note_paths(Path(args.notes))]
        records, _, _ = chunk_notes(read, embedder, settings.chunk_max_tokens)
        chars = [len(r.chunk.text) for r in records]
        pieces = [embedder.count_tokens(r.embed_text) for r in records]
        over = sum(1 for p in pieces if p > 256)
        print(f"chunks: {len(records)}; characters p50 {statistics.median(chars):.0f}, p90 {percentile(chars, 0.9)}, "
              f"max {max(chars)}; word pieces embedded p50 {statistics.median(pieces):.0f}, p90 {percentile(pieces, 0.9)}, "
              f"max {max(pieces)}; over 256: {over} ({over / len(records):.1%}, each a single line embedded in pieces)")

        questions = PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"
        if questions.exists():
            _, report = kb("eval", str(questions), "--index", str(index), "--json")
            o = report["overall"]
            print(f"dev set (kb search, hybrid): recall@5 {o['recall@5']:.3f}, MRR@10 {o['mrr@10']:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

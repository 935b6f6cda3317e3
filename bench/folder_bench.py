"""Ingest scaling and embedding throughput: s/MB on the shipped notes and on a generated 1 MB note in the same run,
texts/s of the build's embedding against a bare ONNX batch encode of the same texts, peak memory, cold `kb ask`.

Usage: python bench/folder_bench.py [--mb 1.0] [--skip-ingest]
Works in a temporary directory, so data/index is never touched. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kb.config import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "data" / "notes"
# Wraps the CLI so that the child reports its own peak resident memory when it exits.
PEAK_WRAPPER = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: sys.stderr.write(f'\\nPEAK_KIB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
    "sys.argv = ['kb'] + sys.argv[1:]\n"
    "from kb.cli import app\n"
    "app()\n"
)


def generated_note(size_bytes: int) -> str:
    """A markdown note shaped like the shipped ones (the lines of aws-developer-notes.md, in order, repeated);
    each copy's lines end in its number (one word piece), so no text is shared with another copy or with the
    shipped notes (the embedding cache cannot help) while texts stay as long as the shipped ones."""
    source = (SHIPPED / "aws-developer-notes.md").read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    size, copy = 0, 0
    while size < size_bytes:
        copy += 1
        for line in source:
            if line.strip() and not line.lstrip().startswith("```"):
                line = f"{line} {copy}"
            out.append(line)
            size += len(line.encode()) + 1
            if size >= size_bytes:
                break
    return "\n".join(out) + "\n"


def ingest(notes: Path, index: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, "ingest", "--notes", str(notes), "--index", str(index), "--json", "--force"],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"kb ingest failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)
    peak = re.search(r"PEAK_KIB (\d+)", proc.stderr)
    summary["wall"] = wall
    summary["peak_mb"] = int(peak.group(1)) / 1024 if peak else float("nan")
    summary["mb"] = sum(p.stat().st_size for p in notes.rglob("*") if p.is_file()) / 1e6
    summary["progress_lines"] = sum(1 for line in proc.stderr.splitlines() if line.startswith("embedding: "))
    return summary


def chunking_seconds(notes: Path) -> tuple[float, int]:
    """Seconds to read and chunk a folder (everything of a build but embedding and writing), and its texts."""
    from ingest.build import chunk_notes, read_notes
    from kb.config import Settings
    from kb.embedder import get_embedder

    settings = Settings()
    embedder = get_embedder(settings)
    embedder.count_tokens("warm up")
    started = time.perf_counter()
    read, _ = read_notes(notes)
    records, _, _ = chunk_notes(read, embedder, settings.chunk_max_tokens)
    return time.perf_counter() - started, len(records) + sum(len(r.lines) for r in records)


def throughput(notes: Path) -> None:
    """texts/s of the build's embedding step (embed_missing, empty cache) against the bare ONNX encoder."""
    from ingest.build import chunk_notes, embed_missing, read_notes
    from kb.config import Settings
    from kb.embedder import get_embedder

    settings = Settings()
    embedder = get_embedder(settings)
    read, _ = read_notes(notes)
    records, _, _ = chunk_notes(read, embedder, settings.chunk_max_tokens)
    texts = list(dict.fromkeys([r.embed_text for r in records] + [u.embed_text for r in records for u in r.lines]))
    embedder.encode(["warm up the runtime"] * 8)
    bare_encoder = getattr(embedder, "_onnx", None)
    if bare_encoder is None:
        print("texts/s: the embedder is not running under ONNX Runtime; no bare encode to compare with")
        return
    started = time.perf_counter()
    bare_encoder.encode(texts)
    bare = time.perf_counter() - started
    started = time.perf_counter()
    embed_missing(embedder, texts, {}, None)
    pipeline = time.perf_counter() - started
    print(
        f"embedding {len(texts)} texts of the shipped notes: build pipeline {len(texts) / pipeline:.0f} texts/s, "
        f"bare ONNX batch encode {len(texts) / bare:.0f} texts/s -> {bare / pipeline:.2f} of bare"
    )


def cold_ask(index: Path) -> None:
    for label in ("first", "second"):
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "kb.cli", "ask", "How long does SQS keep messages?", "--index", str(index)],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "KB_API_URL": "http://127.0.0.1:9"},  # no server: the local path
        )
        seconds = time.perf_counter() - started
        print(f"cold `kb ask` ({label} run, no server): {seconds:.2f} s, exit {proc.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=1.0, help="Size of the generated note in MB.")
    parser.add_argument("--skip-ingest", action="store_true", help="Only the throughput comparison.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-folder-bench-"))
    try:
        shipped_notes = work / "shipped"
        shutil.copytree(SHIPPED, shipped_notes)
        if not args.skip_ingest:
            big_notes = work / "generated" / "vault" / "nested"
            big_notes.mkdir(parents=True)
            (big_notes / "generated.md").write_text(generated_note(int(args.mb * 1e6)), encoding="utf-8")
            runs = {"shipped notes": ingest(shipped_notes, work / "index-shipped"),
                    f"generated {args.mb:g} MB note": ingest(work / "generated", work / "index-generated")}
            per_mb = {}
            for name, s in runs.items():
                per_mb[name] = s["seconds"] / s["mb"]
                print(
                    f"{name:24} {s['mb']:.2f} MB, {s['files']} files, {s['chunks']} chunks, {s['reembedded']} texts embedded: "
                    f"build {s['seconds']:.1f} s ({per_mb[name]:.1f} s/MB, {s['reembedded'] / s['seconds']:.0f} texts/s), "
                    f"wall {s['wall']:.1f} s, peak RSS {s['peak_mb']:.0f} MB, {s['progress_lines']} progress lines"
                )
            shipped, generated = per_mb.values()
            print(f"s/MB generated / shipped: {generated / shipped:.2f} (goal <= 1.3)")
            for name, folder in (("shipped notes", shipped_notes), ("generated note", work / "generated")):
                seconds, texts = chunking_seconds(folder)
                mb = runs[next(k for k in runs if k.startswith(name.split()[0]))]["mb"]
                print(f"read + chunk only, {name}: {seconds:.1f} s ({seconds / mb:.1f} s/MB, {texts} texts)")
        throughput(shipped_notes)
        if not args.skip_ingest:
            cold_ask(work / "index-shipped")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Score comparison tables against a gold set, in-process, the way ../shared/eval/score_compare.py scores the API.

usage: python bench/compare_bench.py [GOLD.json] [--index DIR] [--notes DIR] [--misses] [--only ID,ID]

A gold found cell counts as filled when our cell is not "not_in_notes" and one of its citations overlaps a gold fact's
lines in the same file, or its cited lines contain all of a gold fact's phrases. Prints the share of gold found cells
filled, of gold not_in_notes cells left empty, of gold conflicts flagged, false conflicts, and seconds per table
(median of --repeat runs, and the first run of each table), after the warm-up a running server does once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.compare import compare, warm_up  # noqa: E402
from kb.config import PROJECT_ROOT, Settings, get_settings  # noqa: E402
from kb.core import KnowledgeBase  # noqa: E402
from kb.models import Cell  # noqa: E402

DEFAULT_GOLD = PROJECT_ROOT.parent / "shared" / "eval" / "compare_dev.json"


def cell_fills(cell: Cell, gold: dict, files: dict[str, list[str]]) -> bool:
    """True when the cell cites lines that overlap a gold fact or contain all of its phrases."""
    if cell.status == "not_in_notes":
        return False
    for citation in cell.citations:
        name = Path(citation.file).name
        span = "\n".join(files.get(name, [])[max(0, citation.start_line - 1) : citation.end_line]).lower()
        for fact in gold.get("facts", []):
            overlaps = name == fact["file"] and citation.start_line <= fact["lines"][1] and citation.end_line >= fact["lines"][0]
            if overlaps or (fact.get("phrases") and all(p.lower() in span for p in fact["phrases"])):
                return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="?", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--index", type=Path, default=None, help="Index directory (default: KB_INDEX_DIR or data/index).")
    parser.add_argument("--notes", type=Path, default=None, help="Notes directory (default: KB_NOTES_DIR or data/notes).")
    parser.add_argument("--only", default="", help="Comma-separated table ids.")
    parser.add_argument("--misses", action="store_true", help="List the gold cells we miss.")
    parser.add_argument("--repeat", type=int, default=3, help="Time each table this many times (median).")
    args = parser.parse_args()

    settings = get_settings()
    if args.index:
        settings = settings.model_copy(update={"index_dir": args.index})
    notes_dir = args.notes or settings.notes_dir
    files = {p.name: p.read_text(encoding="utf-8").split("\n") for p in Path(notes_dir).iterdir() if p.is_file()}
    only = set(filter(None, args.only.split(",")))
    tables = [t for t in json.loads(args.gold.read_text())["tables"] if not only or t["id"] in only]

    t0 = time.perf_counter()
    kb = KnowledgeBase(Settings(**settings.model_dump()))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    kb.warm_up()  # what a server does before it listens: the model's weights
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm_up(kb.build, kb.embedder)  # the per-build segments and the aspects' vectors (else paid by the first table)
    warm_s = time.perf_counter() - t0

    n = {"found": 0, "not_in_notes": 0, "conflict": 0}
    got = {"found": 0, "not_in_notes": 0, "conflict": 0}
    false_conflicts, seconds, first_seconds, misses = 0, [], [], []
    for table in tables:
        times = []
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            result = compare(kb.build, kb.embedder, table["services"], table["aspects"])
            times.append(time.perf_counter() - t0)
        first_seconds.append(times[0])
        seconds.append(statistics.median(times))
        cells = {(c.service.lower(), c.aspect.lower()): c for c in result.cells}
        for gold in table["cells"]:
            cell = cells.get((gold["service"].lower(), gold["aspect"].lower()))
            status = gold["status"]
            n[status] += 1
            if cell is None:
                misses.append((table["id"], gold["service"], gold["aspect"], status, "missing cell"))
                continue
            if status == "not_in_notes":
                ok = cell.status == "not_in_notes"
            elif status == "conflict":
                ok = cell.status == "conflict"
            else:
                ok = cell_fills(cell, gold, files)
                false_conflicts += cell.status == "conflict"
            got[status] += ok
            if not ok:
                cited = ", ".join(f"{c.file}:{c.start_line}" for c in cell.citations) or "-"
                misses.append((table["id"], gold["service"], gold["aspect"], status, f"ours {cell.status} [{cited}]"))

    rate = {k: round(got[k] / n[k], 3) if n[k] else None for k in n}
    print(
        f"tables={len(tables)} cells={sum(n.values())} found_filled={rate['found']} ({got['found']}/{n['found']}) "
        f"empty_kept={rate['not_in_notes']} ({got['not_in_notes']}/{n['not_in_notes']}) "
        f"conflicts_flagged={rate['conflict']} ({got['conflict']}/{n['conflict']}) false_conflicts={false_conflicts}"
    )
    print(
        f"seconds per table: median={statistics.median(seconds):.3f} max={max(seconds):.3f}; "
        f"first time each table is asked: max={max(first_seconds):.3f} "
        f"(index load {load_s:.1f} s, model warm-up {model_s:.1f} s, compare warm-up {warm_s:.1f} s, once per process)"
    )
    if args.misses:
        for miss in misses:
            print("MISS", " | ".join(miss))


if __name__ == "__main__":
    main()

"""The evidence layer: what each sentence of the notes is, is about and states, built once per index build.

Answers, comparison tables and difference questions read the notes through it, so a line is understood the same
way wherever it is quoted:
- segment.py holds a `NoteSentence` (alias `Segment`) and the `NoteLine` it is cut from; sentences.py cuts each
  note line into `NoteSentence`s (sentences of prose, bullets, headings, table cells; tables.py reads tables), each
  with its **kind** (prose, heading, table), the services it names, its **subject** (inherited from the heading, a
  plain-text label line above a list, a paragraph opener, a parent bullet, or a table's header and first column),
  its **context** (the heading and label it sits under) and, for a table cell, its row and column names;
- index.py keeps them per build (`segment_index`), by service and by line, with each table row's header row and
  the embedded row names;
- figures.py reads the **figures** a sentence states (number, unit, role: default, max or min), normalised
  ("1 day" = "24 hours", "256kb" = "256 KB"), and counts with what they count and per what ("20 IPs per ENI",
  "read-only copies (max 15)"); conflicts.py tells when two files state different ones of the same quantity;
- lineage.py places a service or feature in the catalogue's family tree; text.py holds the shared word rules.
"""

from __future__ import annotations

from kb.evidence.conflicts import Conflict, detect_conflict
from kb.evidence.figures import Figure, extract_figures, figures_near, states_a_number
from kb.evidence.index import SegmentIndex, segment_index, sentence_subjects
from kb.evidence.segment import NoteLine, NoteSentence, Segment
from kb.evidence.sentences import leading_service, segment_file
from kb.evidence.tables import cell_spans, table_blocks

__all__ = [
    "Conflict",
    "Figure",
    "NoteLine",
    "NoteSentence",
    "Segment",
    "SegmentIndex",
    "cell_spans",
    "detect_conflict",
    "extract_figures",
    "figures_near",
    "leading_service",
    "segment_file",
    "segment_index",
    "sentence_subjects",
    "states_a_number",
    "table_blocks",
]

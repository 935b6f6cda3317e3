"""Comparison tables: services side by side, every cell quoted from the notes and cited to its exact lines.

How a cell is filled:
1. The notes are cut once per index build into *segments* by the evidence layer (kb.evidence): sentences of prose lines,
   bullets, headings, and the cells of tab-separated tables. Each segment records the services it names and the
   services it inherits from its heading, from a line that opened a paragraph with a service name ("sqs fifo queue -
   ...") or from a parent bullet. A table cell belongs to the service its column (or row) names.
2. For one service and one aspect (aspects.py, families.py), the candidates are the segments about that service
   (attribution.py); each is scored by the aspect's keyword patterns and by the cosine of its line vector to the
   aspect's query (evidence.py). The best segments that pass a threshold, at most two per file, become the cell's
   value and citations (table.py). Nothing passes: "not in notes".
3. Figures with units (retention, sizes, layers, percentages) and counts with what they count ("up to 5 read
   replicas", "copies (max 15)") are read from each file's evidence (kb.evidence.figures); two files that state
   different figures for the same quantity (default, maximum, minimum; for counts, of the same thing, the aspect's
   own noun or a feature of the service) make the cell a conflict,
   as does one file saying "X only" where another lists more (kb.evidence.conflicts), or one file listing the service among the
   family members something applies to where another leaves it out (membership.py).

Markdown and CSV renderings of a table are in export.py.
"""

from __future__ import annotations

from kb.compare.aspects import ASPECTS, Aspect, resolve_aspect
from kb.compare.evidence import informative
from kb.compare.families import FAMILY_ASPECTS, default_aspects, family_of
from kb.compare.membership import listed_members, membership_conflict, same_topic
from kb.compare.table import NOT_IN_NOTES, compare, resolve_service, warm_up

__all__ = [
    "ASPECTS",
    "FAMILY_ASPECTS",
    "NOT_IN_NOTES",
    "Aspect",
    "compare",
    "default_aspects",
    "family_of",
    "informative",
    "listed_members",
    "membership_conflict",
    "resolve_aspect",
    "resolve_service",
    "same_topic",
    "warm_up",
]

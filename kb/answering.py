"""The ask pipeline: a question, ranked over one build, to an extractive answer that cites its lines.

The steps, in order: decline what the notes never name (kb.coverage); answer a difference question from the
comparison table (kb.difference); score every line of the ranked chunks against the question; decline below the
calibrated similarity; weigh and pick the sentences; decline when none states the kind of fact asked (kb.asked_kind) or
they name another instance type than the one asked; compose the sentences (kb.answer); flag notes that disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from kb import answer as extract
from kb.asked_kind import SHORTLIST, unstated_kind
from kb.catalogue import Catalogue
from kb.coverage import identifier_mismatch, spells_out, uncovered_names
from kb.difference import NoteTableRow, try_difference
from kb.disagreement import disagreement as find_disagreement
from kb.evidence import segment_index, sentence_subjects
from kb.index import LoadedBuild, hits_of
from kb.models import Answer, ComparisonTable
from kb.retrieval import Focus, Ranking

__all__ = ["extract_answer", "hits_of", "line_similarities"]

Compare = Callable[[list[str], "list[str] | None"], ComparisonTable]


def line_similarities(
    build: LoadedBuild, ranked: list[tuple[int, float]], query_vector: np.ndarray, focus: Focus | None
) -> tuple[dict[tuple[str, int, int], float], float]:
    """Each (file, line, part) of the ranked chunks with its cosine to the question (or to the focused question,
    when that is closer), and the best cosine to the question as asked."""
    by_line: dict[tuple[str, int, int], float] = {}
    best_line = 0.0
    for chunk_index, _ in ranked:
        rows = build.lines_of_chunk.get(chunk_index)
        if rows is None:
            continue
        sims = extract.cosine_rows(build.line_matrix[rows], query_vector)
        best_line = max(best_line, float(sims.max(initial=0.0)))
        if focus is not None:
            # A line that answers what is asked of the service matches the focused question best.
            sims = np.maximum(sims, extract.cosine_rows(build.line_matrix[rows], focus.vector))
        file_name = build.chunk(chunk_index).file
        for row, sim in zip(rows.tolist(), sims.tolist()):
            key = (file_name, int(build.index.line_numbers[row]), int(build.index.line_parts[row]))
            by_line[key] = float(sim)
    return by_line, best_line


def extract_answer(
    build: LoadedBuild,
    ranking: Ranking,
    question: str,
    query_vector: np.ndarray,
    catalogue: Catalogue,
    compare: Compare,
    abstain_below: float,
) -> Answer:
    """The extractive answer to a question whose ranking over the build is given; or an abstention saying why."""
    ranked, focus = ranking.ranked, ranking.focus
    hits = hits_of(ranked, build)
    # An acronym the notes never use may be written out in the passages found: only there, a short text, so that a
    # chance match of initials across the whole notes does not excuse it.
    uncovered = uncovered_names(
        question, build.vocabulary, lambda name: catalogue.find_in_heading(name) != [], lambda name: catalogue.id_for(name) is not None,
        lambda acronym: spells_out(acronym, " ".join(hit.text for hit in hits)),
    )
    if uncovered:
        return extract.abstain(question, hits, "; ".join(u.describe() for u in uncovered))
    difference = try_difference(question, catalogue, compare, hits, lambda side_by_side: _note_rows(build, side_by_side))
    if difference is not None and not difference.abstained:
        return difference
    by_line, best_line = line_similarities(build, ranked, query_vector, focus)
    # Calibrated on the question as asked (bench/abstain_bench.py), not on its focused form.
    if best_line < abstain_below:
        return extract.abstain(question, hits)
    candidates = extract.candidates_from(hits)
    extract.score_candidates(candidates, by_line, question, focus.query if focus else None)
    named = set(catalogue.find_in_heading(question))
    extract.weigh_evidence(candidates, sentence_subjects(build), _asked_services(named, focus), catalogue,
                           segment_index(build).table_headers)
    chosen = extract.pick(candidates)
    if not chosen:
        return extract.abstain(question, hits)
    lead = chosen[0]
    shortlist = sorted(candidates, key=lambda c: c.score, reverse=True)[:SHORTLIST]
    # A t2.small price answers no NAT Gateway price question: when the question names its service, only sentences
    # about it count (a guessed service is too often wrong to rule a sentence out).
    unstated = unstated_kind(question, (c.quote for c in shortlist if not (named and c.other_subject)))
    if unstated is not None:
        return extract.abstain(
            question, hits, f"they state no {unstated} for it; the closest they come is “{lead.quote}” ({lead.hit.file}:{lead.line})"
        )
    mismatch = identifier_mismatch(question, lead.quote)
    if mismatch is not None:
        return extract.abstain(
            question, hits, f"they give “{lead.quote}” ({lead.hit.file}:{lead.line}) for {mismatch[1]}, not for {mismatch[0]}"
        )
    elsewhere = _stated_elsewhere(chosen[0], question, query_vector, build)
    disagreement = find_disagreement(candidates + elsewhere, chosen, question, build.line_matrix)
    if disagreement is not None:
        chosen = extract.lead_with(disagreement[1], chosen)
        hits = hits + [c.hit for c in disagreement[1] if c.hit.id not in {h.id for h in hits}]
    answer = extract.compose(question, chosen, hits, disagreement[0] if disagreement else None)
    if difference is not None:
        answer.comparison = difference.comparison  # the table the notes give, beside the answer they state
    return answer


def _stated_elsewhere(
    lead: extract.Candidate, question: str, query_vector: np.ndarray, build: LoadedBuild
) -> list[extract.Candidate]:
    """Sentences anywhere in the notes that state a figure of the kind asked about the lead's subject, as close
    to the question as the lead: where another file may disagree with it, though retrieval did not bring it."""
    found = extract.figure_statements(lead, question, query_vector, segment_index(build), build.line_matrix)
    if not found:
        return []
    chunks = list(dict.fromkeys(s.chunk for s, _ in found))
    hit_of = dict(zip(chunks, hits_of([(chunk, lead.hit.score) for chunk in chunks], build)))
    return [
        extract.Candidate(hit_rank=len(chunks), hit=hit_of[s.chunk], line=s.line, part=0, quote=s.quote,
                          dense=cosine, score=lead.score, segment=s)
        for s, cosine in found
    ]


def _note_rows(build: LoadedBuild, side_by_side: Callable[[str], bool]) -> list[NoteTableRow]:
    """The rows of the first table of the notes whose header row passes `side_by_side`, in line order."""
    passes = cache(side_by_side)  # one verdict a header, not one a row
    rows = sorted(segment_index(build).table_headers.items())
    table = next(((file_name, header_line) for (file_name, _), (header_line, header) in rows if passes(header)), None)
    if table is None:
        return []
    by_line = sentence_subjects(build)
    found = []
    for (file_name, line), (header_line, header) in rows:
        if (file_name, header_line) != table or (file_name, line) not in by_line:
            continue
        chunk = build.chunk(by_line[(file_name, line)][0].chunk)
        if chunk.start_char is not None:
            continue  # a row too long to embed whole is cut into slices: there is no whole row to quote
        text = chunk.text.split("\n")[line - chunk.start_line]
        found.append(NoteTableRow(chunk.id, file_name, line, text, header_line, header))
    return found


def _asked_services(named: set[str], focus: Focus | None) -> set[str]:
    """The services a question is about: those it names, else the one it surely describes."""
    if named:
        return named
    guess = focus.signals.guess if focus is not None else None
    return {guess.service} if guess is not None else set()

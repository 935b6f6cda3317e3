"""Optional answers written by a language model from the retrieved passages, every sentence checked and cited.

Off unless `KB_LLM_URL` names an OpenAI-compatible endpoint. The model sees the passages with their line
numbers and must end each sentence with the marker of the passage it comes from ([2]). A sentence is kept
only if it passes `check_sentence` against the lines of the passages it cites; its citation then points at
the best-matching line(s) of those passages, and its quote is their verbatim text. Whatever goes wrong (the
endpoint is down, slow, answers badly, or no sentence survives) the extractive answer is returned unchanged.

The support rule, for one sentence citing passages P (markers must name passages that were sent):
  - its content words are kb.lexical tokens (stemmed, stop words and other function words such as "can",
    "each", "has" out), "256kb" read as "256 kb";
  - up to MAX_LINES_PER_SENTENCE sentence-pieces of P's lines are chosen greedily, each adding the most
    still-uncovered words; after the first, a piece must add at least two words or one of the sentence's
    figures (one shared word such as "default" is not evidence);
  - supported when (a) at least MIN_COVERAGE of its words are in the chosen pieces or in P's headings,
    (b) every figure in it ("4", "256", "99.99", "1,000") is in the chosen pieces or P's headings, and
    (c) it is negated ("not", "never", "no", "can't"...) exactly when one of the chosen pieces is.
It is a lexical check: it catches invented figures, claims whose key words are not in the cited lines,
wrong markers and flipped negations; it cannot tell that a sentence reorders true words into a false claim.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

import httpx

from kb.answer import quote_context, split_sentences
from kb.config import Settings
from kb.evidence.text import NEGATION
from kb.lexical import tokenize
from kb.models import Answer, Citation, Hit

logger = logging.getLogger(__name__)

MIN_COVERAGE = 0.8
MAX_LINES_PER_SENTENCE = 3
MAX_SENTENCES = 4
# Passages sent to the model; ask() uses k=5, but the API allows up to 50 and the prompt must stay small.
MAX_PASSAGES = 8
_KEPT = "keeping the extractive answer"

SYSTEM_PROMPT = """You answer questions about a reader's AWS study notes, using only the numbered passages given.
Rules:
- Write 1 to 4 short plain sentences. No lists, no headings, no preamble.
- End every sentence with the marker of the passage it comes from, before the full stop, like: ... 4 days [2].
  If a sentence draws on two passages, give both: [1][3]. Never cite a passage number that was not given.
  Do not write line numbers; they are there to help you find the lines.
- Say only what the passages say, in their words where you can. Add no facts, numbers, names or advice of your own.
- Copy every number exactly as the passage writes it.
- If the passages do not answer the question, reply exactly: NOT COVERED"""

_MARKER_TEXT = r"\[\s*(?:passages?\s*)?\d+(?:\s*[,;]\s*(?:passages?\s*)?\d+)*\s*\]"
_MARKER = re.compile(_MARKER_TEXT, re.IGNORECASE)
# "days. [1] Next" -> "days [1]. Next", so the marker stays with the sentence it closes.
_MARKERS_AFTER_STOP = re.compile(rf"([.!?])((?:\s*{_MARKER_TEXT})+)", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"(?<=\][.!?])\s+|(?<=[.!?])\s+(?=[A-Z0-9\"“(\[*])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# A line reference the model adds anyway: "(L1538)", "(L12-L14)", a bare "L1538" (not "L7", the network layer).
_LINE_REF = re.compile(r"\s*\(\s*L\d+(?:\s*[-–,]\s*L?\d+)*\s*\)|\s*\bL\d{2,}(?:\s*[-–]\s*L?\d+)?\b")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?)])")
_FIGURE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_DIGIT_THEN_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])")
# Words that carry no claim, on top of bm25s's short stop list; quantifiers and comparisons ("only", "all",
# "more", "over") are left in, since changing them changes the claim.
_FUNCTION_WORDS = re.compile(
    r"\b(?:am|been|being|can|could|did|do|does|doing|had|has|have|having|may|might|must|shall|should|would"
    r"|i|me|my|we|us|our|you|your|he|him|his|she|her|its|them|those|which|who|whom|what|when|where|why|how"
    r"|about|also|each|from|here|just|so|through|up|upon|very|via|while)\b",
    re.IGNORECASE,
)


@dataclass
class ReplySentence:
    """One sentence of the model's reply: its text without markers, and the passage numbers it cites."""

    text: str
    markers: list[int]


@dataclass
class _Piece:
    """A sentence of one passage line: where it stands in the passage text, and what it says."""

    passage: int  # 0-based index into the passages sent
    line: int
    start: int  # character offsets in the passage's text
    end: int
    tokens: frozenset[str]
    figures: frozenset[str]
    negated: bool


class GenerationFailed(Exception):
    """The model could not be asked, or its reply could not be read."""


def completions_url(llm_url: str) -> str:
    """The chat-completions endpoint for a base URL given with or without its version segment.

    `http://host:8080/v1` (OpenAI's base_url) and `http://host:8080` both give `http://host:8080/v1/chat/completions`;
    a base ending in another version (`.../v1beta`) is kept as it is; a full `.../chat/completions` URL is used as is.
    """
    url = llm_url.strip().rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if re.search(r"/v\d+[a-z0-9]*$", url):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def passages_prompt(passages: list[Hit]) -> str:
    """The passages numbered [1].. with each non-blank line prefixed by its line number in the file."""
    blocks = []
    for n, hit in enumerate(passages, 1):
        where = f"[{n}] {hit.file}" + (f" ({' > '.join(hit.heading_path)})" if hit.heading_path else "")
        lines = [
            f"L{hit.start_line + offset}: {line.rstrip()}"
            for offset, line in enumerate(hit.text.split("\n"))
            if line.strip()
        ]
        blocks.append("\n".join([where, *lines]))
    return "\n\n".join(blocks)


def build_request(question: str, passages: list[Hit], settings: Settings) -> dict:
    """The OpenAI chat-completions request body."""
    user = f"Passages:\n\n{passages_prompt(passages)}\n\nQuestion: {question}"
    return {
        "model": settings.llm_model,
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}],
        "temperature": 0,
        "stream": False,
    }


def ask_model(question: str, passages: list[Hit], settings: Settings, client: httpx.Client | None = None) -> str:
    """The model's reply text, or GenerationFailed."""
    assert settings.llm_url
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    body = build_request(question, passages, settings)
    url = completions_url(settings.llm_url)
    try:
        if client is None:
            with httpx.Client(timeout=settings.llm_timeout_s) as own_client:
                response = own_client.post(url, json=body, headers=headers)
        else:
            response = client.post(url, json=body, headers=headers, timeout=settings.llm_timeout_s)
    except httpx.HTTPError as error:
        raise GenerationFailed(f"{type(error).__name__} from {url}: {error}") from error
    if response.status_code != 200:
        raise GenerationFailed(f"{url} answered {response.status_code}: {response.text[:200]!r}")
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise GenerationFailed(f"{url} sent no chat completion: {response.text[:200]!r}") from error
    if isinstance(content, list):  # some servers send content parts
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str) or not content.strip():
        raise GenerationFailed(f"{url} sent an empty reply")
    return content


def parse_reply(reply: str) -> list[ReplySentence]:
    """The reply's sentences, each with the passage numbers its markers name (in order, without repeats)."""
    sentences: list[ReplySentence] = []
    for raw_line in reply.splitlines():
        line = _LIST_ITEM.sub("", raw_line).strip()
        if not line:
            continue
        line = _MARKERS_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), line)
        for piece in _SENTENCE_BREAK.split(line):
            markers: list[int] = []
            for marker in _MARKER.findall(piece):
                for number in re.findall(r"\d+", marker):
                    if int(number) not in markers:
                        markers.append(int(number))
            text = _LINE_REF.sub("", _MARKER.sub(" ", piece))
            text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split())).strip()
            if text:
                sentences.append(ReplySentence(text, markers))
    return sentences


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _token_sets(texts: list[str]) -> list[frozenset[str]]:
    if not texts:
        return []
    prepared = [_FUNCTION_WORDS.sub(" ", _DIGIT_THEN_LETTER.sub(" ", text)) for text in texts]
    return [frozenset(tokens) for tokens in tokenize(prepared)]


def figures(text: str) -> frozenset[str]:
    """The numbers a text states, written without thousands commas ("1,000" -> "1000")."""
    return frozenset(re.sub(r"(?<=\d),(?=\d{3})", "", f) for f in _FIGURE.findall(text))


@dataclass
class Evidence:
    """What the passages sent to the model can support: per passage, the sentences of its lines, and its headings."""

    passages: list[Hit]
    pieces: list[list[_Piece]]
    heading_tokens: list[frozenset[str]]
    heading_figures: list[frozenset[str]]

    @classmethod
    def of(cls, passages: list[Hit]) -> Evidence:
        headings = [" ".join(hit.heading_path) for hit in passages]
        return cls(passages, passage_pieces(passages), _token_sets(headings), [figures(h) for h in headings])


def passage_pieces(passages: list[Hit]) -> list[list[_Piece]]:
    """Per passage, the quotable sentences of its lines (heading lines are context, not evidence)."""
    found: list[tuple[int, int, int, int, str]] = []
    for index, hit in enumerate(passages):
        headings = {_words(h) for h in hit.heading_path}
        line_start = 0
        for offset, line in enumerate(hit.text.split("\n")):
            if _words(line) not in headings:
                search_from = 0
                for sentence in split_sentences(line):
                    at = line.find(sentence, search_from)
                    if at < 0:
                        continue
                    search_from = at + len(sentence)
                    found.append((index, hit.start_line + offset, line_start + at, line_start + search_from, sentence))
            line_start += len(line) + 1
    token_sets = _token_sets([text for *_, text in found])
    pieces: list[list[_Piece]] = [[] for _ in passages]
    for (index, line, start, end, text), tokens in zip(found, token_sets):
        pieces[index].append(_Piece(index, line, start, end, tokens, figures(text), bool(NEGATION.search(text))))
    return pieces


def check_sentence(text: str, markers: list[int], evidence: Evidence) -> list[_Piece] | None:
    """The line pieces of the passages its markers name ([1] is the first) that support the sentence, or None
    when a marker is missing or names no passage, or the sentence fails the module's support rule."""
    if not markers or not all(1 <= m <= len(evidence.passages) for m in markers):
        return None
    words = _token_sets([text])[0]
    if not words:
        return None
    cited = [m - 1 for m in markers]
    context = frozenset().union(*(evidence.heading_tokens[p] for p in cited))
    known_figures = set().union(*(evidence.heading_figures[p] for p in cited))
    wanted_figures = figures(text)
    pool = [piece for p in cited for piece in evidence.pieces[p]]
    chosen: list[_Piece] = []
    covered: set[str] = set(words & context)
    covered_figures: set[str] = set(wanted_figures & known_figures)
    while len(chosen) < MAX_LINES_PER_SENTENCE:
        best, best_key = None, (0, 0, 0)
        for piece in pool:
            if piece in chosen:
                continue
            new_words = len((piece.tokens & words) - covered)
            new_figures = len((piece.figures & wanted_figures) - covered_figures)
            # Ties go to the piece with fewer words the sentence does not use: the more precise line.
            key = (new_words + new_figures, new_figures, -len(piece.tokens - words))
            if key > best_key:
                best, best_key = piece, key
        if best is None or (chosen and best_key[0] < 2 and best_key[1] == 0):
            break
        chosen.append(best)
        covered |= best.tokens & words
        covered_figures |= best.figures & wanted_figures
    if not chosen:
        return None
    if len(words & covered) < math.ceil(MIN_COVERAGE * len(words) - 1e-9):
        return None
    if not wanted_figures <= covered_figures:
        return None
    if bool(NEGATION.search(text)) != any(piece.negated for piece in chosen):
        return None
    return chosen


def _continues(previous: _Piece, piece: _Piece, passages: list[Hit]) -> bool:
    """Same passage, and the same line or only blank lines between: one span can quote both."""
    if piece.passage != previous.passage:
        return False
    hit = passages[piece.passage]
    lines = hit.text.split("\n")
    return all(not lines[n - hit.start_line].strip() for n in range(previous.line + 1, piece.line))


def citations_for(pieces: list[_Piece], passages: list[Hit]) -> list[Citation]:
    """Citations (numbered 0 for now) for supporting pieces: pieces of one line, or of lines with only blank
    lines between them, become one span whose quote is the passage text from the first to the last."""
    citations: list[Citation] = []
    ordered = sorted(pieces, key=lambda p: (p.passage, p.start))
    group: list[_Piece] = []

    def close() -> None:
        hit = passages[group[0].passage]
        quote = hit.text[group[0].start : group[-1].end]
        citations.append(
            Citation(
                n=0,
                id=hit.id,
                file=hit.file,
                start_line=group[0].line,
                end_line=group[-1].line,
                quote=quote,
                context=quote_context(hit, group[0].line),
            )
        )

    for piece in ordered:
        if group and not _continues(group[-1], piece, passages):
            close()
            group = []
        group.append(piece)
    if group:
        close()
    return citations


def checked_answer(question: str, reply: str, passages: list[Hit], hits: list[Hit]) -> tuple[Answer | None, int]:
    """The answer built from the reply's supported sentences (None if none is), and how many were dropped."""
    evidence = Evidence.of(passages)
    numbers: dict[tuple[str, int, int, str], int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    dropped = 0
    for sentence in parse_reply(reply):
        if len(parts) == MAX_SENTENCES:
            break
        support = check_sentence(sentence.text, sentence.markers, evidence)
        if support is None:
            dropped += 1
            logger.debug("dropped unsupported sentence %r (markers %s)", sentence.text, sentence.markers)
            continue
        marks = []
        for citation in citations_for(support, passages):
            key = (citation.id, citation.start_line, citation.end_line, citation.quote)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(citation.model_copy(update={"n": numbers[key]}))
            marks.append(f"[{numbers[key]}]")
        stop = sentence.text[-1] if sentence.text[-1] in ".!?" else "."
        body = sentence.text.rstrip(" .!?;:,")
        parts.append(f"{body} {''.join(marks)}{stop}")
    if not parts:
        return None, dropped
    answer = Answer(question=question, answer=" ".join(parts), abstained=False, citations=citations, passages=hits)
    return answer, dropped


def generate_answer(
    question: str, hits: list[Hit], extractive: Answer, settings: Settings, client: httpx.Client | None = None
) -> Answer:
    """An answer written by the model at settings.llm_url from the hits, each sentence checked and cited to its lines.

    The extractive answer comes back unchanged (the same object) when generation is off, the extractive answer
    abstained (the model is never asked then), or anything fails: a warning is logged, nothing is raised.
    """
    if extractive.abstained or not settings.llm_url or not hits:
        return extractive
    passages = hits[:MAX_PASSAGES]
    try:
        reply = ask_model(question, passages, settings, client)
        answer, dropped = checked_answer(extractive.question, reply, passages, hits)
    except GenerationFailed as error:
        logger.warning("LLM answer failed (%s); %s", error, _KEPT)
        return extractive
    except Exception:  # an optional path must never break ask()
        logger.exception("LLM answer failed; %s", _KEPT)
        return extractive
    if answer is None:
        logger.warning("no sentence of the LLM answer passed the citation check (%d dropped); %s", dropped, _KEPT)
        return extractive
    if dropped:
        logger.info("dropped %d unsupported sentence(s) of the LLM answer", dropped)
    return answer

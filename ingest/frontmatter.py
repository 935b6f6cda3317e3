"""YAML (`---`) or TOML (`+++`) front matter at the top of a note: metadata, never a passage."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

_FENCES = {"---": ("---", "..."), "+++": ("+++",)}
# A closing fence further down than this is a horizontal rule pair in the body, not front matter.
_MAX_LINES = 200


@dataclass
class FrontMatter:
    """Lines 1..end_line are front matter (end_line 0: none); its title and tags, and why it could not be read."""

    end_line: int = 0
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    problem: str | None = None


def _tags(value: object) -> list[str]:
    if isinstance(value, str):
        items = value.replace(",", " ").split()
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value if v is not None]
    else:
        return []
    out: list[str] = []
    for item in items:
        tag = item.strip().lstrip("#").strip()
        if tag and tag not in out:
            out.append(tag)
    return out


def parse_front_matter(lines: list[str]) -> FrontMatter:
    """The front matter of a note given its lines; a block that does not parse to a mapping is left as text."""
    if not lines or lines[0].rstrip() not in _FENCES:
        return FrontMatter()
    opener = lines[0].rstrip()
    closers = _FENCES[opener]
    end = next((n for n in range(2, min(len(lines), _MAX_LINES) + 1) if lines[n - 1].rstrip() in closers), 0)
    if not end:
        return FrontMatter()
    body = "\n".join(lines[1 : end - 1])
    try:
        if opener == "---":
            import yaml

            data = yaml.safe_load(body) if body.strip() else {}
        else:
            data = tomllib.loads(body)
    except Exception as exc:  # yaml.YAMLError, tomllib.TOMLDecodeError: the block stays text, and we say why
        kind = "YAML" if opener == "---" else "TOML"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return FrontMatter(problem=f"lines 1-{end} look like {kind} front matter but do not parse ({first}); read as text")
    if not isinstance(data, dict):
        return FrontMatter()
    title = data.get("title")
    return FrontMatter(
        end_line=end,
        title=str(title).strip() or None if title is not None else None,
        tags=_tags(data.get("tags", data.get("tag"))),
    )

"""One exception tree for the whole product; the API (api/errors.py) and the CLI map it to status codes and exit codes."""

from __future__ import annotations


class KBError(Exception):
    """Base of every error notes-kb raises on purpose; its message is safe to show to a user."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadQuery(KBError):
    """The question or its parameters cannot be used (empty, too long, k out of range...)."""


class UnknownService(KBError):
    """A service name that the catalogue does not know; `details["suggestions"]` holds close matches."""


class NotFound(KBError):
    """A passage or other object that does not exist."""


class IndexNotBuilt(KBError):
    """No usable index at the configured directory."""


class IndexCorrupt(KBError):
    """An index directory exists but cannot be trusted (truncated file, other model, out of step)."""


class IndexBusy(KBError):
    """Another rebuild holds the index lock."""


class NoteFormatError(KBError):
    """A note file that cannot be read (not UTF-8, binary, empty, unreadable)."""

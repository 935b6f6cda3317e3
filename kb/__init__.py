"""notes-kb: a searchable knowledge base over study notes, with answers that cite exact lines."""

from kb.errors import KBError

__all__ = ["KBError", "KnowledgeBase"]


def __getattr__(name: str):
    # KnowledgeBase pulls in numpy/faiss; keep `import kb` light for the CLI's --help and the UI.
    if name == "KnowledgeBase":
        from kb.core import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)

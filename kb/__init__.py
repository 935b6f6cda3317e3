"""notes-kb: a searchable knowledge base over study notes, with answers that cite exact lines."""

import os

# Query-time linear algebra is one vector against a few thousand: BLAS and OpenMP thread pools gain nothing on
# it and spin between calls, taking the cores that concurrent requests need (bench/load.py, /search at 32
# clients: 85 -> 159 req/s, p99 495 -> 258 ms). The model has its own thread pool (KB_TORCH_THREADS). Set
# before numpy or faiss load; an operator's own setting wins.
for _pool in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

from kb.errors import KBError  # noqa: E402

__all__ = ["KBError", "KnowledgeBase"]


def __getattr__(name: str):
    # KnowledgeBase pulls in numpy/faiss; keep `import kb` light for the CLI's --help and the UI.
    if name == "KnowledgeBase":
        from kb.core import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)

"""Tool: BM25 search over the bundled company documents (policies, manuals, FAQ)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
from langchain_core.tools import tool

from core.domain import read_only

DOCS_DIR = Path(__file__).parent / "data" / "docs"
TOP_K = 2


@dataclass(frozen=True)
class Section:
    """One `##` section of a markdown document: the unit that search returns."""

    doc: str
    title: str
    text: str


def load_sections(docs_dir: Path = DOCS_DIR) -> list[Section]:
    """Split every markdown file into sections at its `##` headings."""
    sections = []
    for path in sorted(docs_dir.glob("*.md")):
        body = path.read_text(encoding="utf-8")
        doc_title = body.splitlines()[0].lstrip("# ").strip() if body else path.stem
        for chunk in re.split(r"\n(?=## )", body):
            heading = chunk.splitlines()[0].lstrip("# ").strip()
            title = doc_title if heading == doc_title else f"{doc_title} > {heading}"
            sections.append(Section(doc=path.name, title=title, text=chunk.strip()))
    return sections


class DocIndex:
    """A BM25 index over document sections."""

    def __init__(self, sections: list[Section]) -> None:
        """Index the sections (title and text)."""
        self.sections = sections
        corpus = [f"{s.title}\n{s.text}" for s in sections]
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize(corpus, show_progress=False), show_progress=False)

    def search(self, query: str, k: int = TOP_K) -> list[tuple[Section, float]]:
        """Return the k best sections for a query, best first, with their scores."""
        tokens = bm25s.tokenize([query], show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, len(self.sections))
        ids, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        hits = zip(ids[0].tolist(), scores[0].tolist(), strict=True)
        return [(self.sections[i], score) for i, score in hits if score > 0]


@lru_cache(maxsize=1)
def default_index() -> DocIndex:
    """Return the index of the bundled documents, built once per process."""
    return DocIndex(load_sections())


def search(query: str, k: int = TOP_K) -> str:
    """Search the bundled documents; return the best sections as text."""
    hits = default_index().search(query, k)
    if not hits:
        return f"No document matches {query!r}."
    return "\n\n".join(f"[{s.doc} | {s.title}]\n{s.text}" for s, _ in hits)


@read_only
@tool
async def search_docs(query: str) -> str:
    """Search the company's documents (refund, shipping, warranty, loyalty and support policies, product manuals, FAQ) and return the most relevant sections."""  # noqa: E501
    return await asyncio.to_thread(search, query)

"""The one data model: documents, pages, layout blocks and passages.

The same types are what the CLI prints as JSON Lines and what later stages
(classification, coverage, the API) exchange.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

Format = Literal["pdf", "docx", "html", "markdown", "text", "json", "xml"]
BlockKind = Literal["heading", "paragraph"]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Page(BaseModel):
    """One page of the source (a whole file counts as page 1 when it has no pages)."""

    number: int = Field(description="1-based page number in the source file")
    char_start: int = Field(description="offset of the page's first character in Document.text")
    char_end: int
    width: float | None = None
    height: float | None = None
    ocr: bool = Field(default=False, description="text came from OCR")
    readable: bool = Field(default=True, description="false when no text could be had")
    notes: list[str] = Field(default_factory=list, description="marginal notes of the page")


class Block(BaseModel):
    """A layout unit of the body text: a heading or a paragraph, as extraction saw it.

    Structured sources (XML, JSON, Markdown headings) also say what the block is:
    its number (``label``) and title, so segmentation need not guess.
    """

    kind: BlockKind = "paragraph"
    char_start: int
    char_end: int
    page: int
    level: int | None = Field(default=None, description="heading level, 1 = top")
    label: str | None = Field(default=None, description="explicit number, e.g. '12' or 's1'")
    title: str | None = Field(default=None, description="explicit title or marginal note")


class Document(BaseModel):
    id: str = Field(description="sha256 of the source bytes")
    title: str
    source: str = Field(description="the file name the document came from")
    format: Format
    language: str | None = Field(default=None, description="ISO 639-1 code, majority of passages")
    page_count: int
    warnings: list[str] = Field(default_factory=list)
    engine: str | None = Field(default=None, description="PDF engine used, if any")
    text: str = Field(description="clean body text; pages and blocks index into it")
    pages: list[Page]
    blocks: list[Block]

    def block_text(self, block: Block) -> str:
        return self.text[block.char_start : block.char_end]

    _starts: list[int] | None = PrivateAttr(default=None)

    def _page_starts(self) -> list[int]:
        starts = self._starts
        if starts is None or len(starts) != len(self.pages):
            starts = self._starts = [p.char_start for p in self.pages]
        return starts

    def page_at(self, offset: int) -> int:
        """The page number holding the character at ``offset``."""
        if not self.pages:
            return 1
        starts = self._page_starts()
        pages = self.pages
        for i in range(max(bisect_right(starts, offset) - 1, 0), len(pages)):
            page = pages[i]
            if page.char_start <= offset < page.char_end:
                return page.number
        return self.pages[-1].number


class Passage(BaseModel):
    """A citable unit: an article, section, numbered paragraph or paragraph."""

    id: str = Field(description="stable: derived from the document hash and the offsets")
    doc_id: str
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    citation: str = Field(description='how a reader cites it: "Article 30(2)", "Section 12"')
    heading: list[str] = Field(default_factory=list, description='e.g. ["Part III", "Chapter 2"]')
    title: str | None = Field(default=None, description="the section's own title or margin note")
    language: str | None = None

    @staticmethod
    def make_id(doc_id: str, char_start: int, char_end: int) -> str:
        return f"{doc_id[:16]}-{char_start}-{char_end}"


class PassageInput(BaseModel):
    """What a classifier reads: a passage's text and, where known, its context."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    text: str
    title: str | None = Field(default=None, description="the document's title")
    doc_type: str | None = Field(default=None, description="one of the manifest's doc types")
    heading: list[str] | str | None = Field(
        default=None, description="heading path (Part, Chapter, ...) or the citation"
    )

    @property
    def heading_text(self) -> str:
        if self.heading is None:
            return ""
        return self.heading if isinstance(self.heading, str) else " / ".join(self.heading)


class Prediction(BaseModel):
    """A classifier's answer for one passage (the ``tipscan classify`` output line)."""

    id: str
    labels: list[str]
    scores: dict[str, float]
    mentions_trafficking: bool
    mentions_corruption: bool
    explain: dict[str, list[str]] | None = None


class Evidence(BaseModel):
    """The sentence(s) of a passage that support a label, as an analyst would quote them."""

    passage_id: str
    citation: str | None
    page: int | None = Field(description="the page, for sources that have pages (PDF); else null")
    text: str = Field(description="the quote: the sentence(s) that carry the label")
    context_before: str = Field(default="", description="text just before the quote")
    context_after: str = Field(default="", description="text just after the quote")
    passage_text: str = Field(default="", description="the whole passage the quote is from")
    language: str | None = None
    score: float = Field(description="the passage's score for the label")
    quote_score: float | None = Field(
        default=None, description="the quote's own score for the label (sentence level)"
    )
    citable: bool = Field(
        default=True,
        description="strong enough to offer as a quote to cite; false: a weaker match to check",
    )


class LabelCoverage(BaseModel):
    covered: bool
    status: Literal["covered", "uncertain", "none"] = Field(
        default="none",
        description="uncertain: some passages support the label, too few or too weakly "
        "for the document rule, or 2.1/2.4 in a document that does not name both themes",
    )
    score: float = Field(description="the best passage score for the label")
    supporting: int = Field(description="passages at or above the label's threshold")
    confidence: Literal["ok", "low"] = Field(
        default="ok",
        description="low: the model saw too few examples of the label in training "
        "(model card), or no passage is strong enough to cite; read the evidence first",
    )
    evidence: list[Evidence] = Field(default_factory=list)


class DocumentCoverage(BaseModel):
    path: str
    doc_id: str
    title: str | None
    doc_type: str
    doc_type_source: Literal["inferred", "meta", "given"]
    country: str | None = None
    language: str | None
    pages: int
    passages: int
    mentions_trafficking: bool
    mentions_corruption: bool
    trafficking_evidence: list[Evidence] = Field(default_factory=list)
    corruption_evidence: list[Evidence] = Field(default_factory=list)
    labels: dict[str, LabelCoverage]
    warnings: list[str] = Field(default_factory=list)


class CheckResult(BaseModel):
    """One of the guidelines' two cross checks over the corpus."""

    passed: bool | None = Field(
        alias="pass", description="null when the corpus holds no document the check applies to"
    )
    applicable: list[str] = Field(description="documents the check applies to (paths)")
    failing: list[str] = Field(description="documents that fail it (paths)")
    note: str

    model_config = ConfigDict(populate_by_name=True)


class CorpusLabel(BaseModel):
    covered: bool
    status: Literal["covered", "gap", "uncertain"]
    score: float
    documents: list[str] = Field(description="paths of the documents that cover the label")
    trust: Literal["ok", "thin"] = "ok"


class Gap(BaseModel):
    label: str
    slug: str
    principle: int
    recommendation: str


class Failure(BaseModel):
    path: str
    code: str
    message: str


class CorpusCoverage(BaseModel):
    labels: dict[str, CorpusLabel]
    principles: dict[str, Literal["covered", "partial", "gap", "uncertain"]]
    checks: dict[str, CheckResult]
    gaps: list[Gap]
    uncertain: list[str] = Field(description="labels whose model support is too thin to call a gap")


class CountryCoverage(CorpusCoverage):
    """One country's documents of a corpus, covered as a corpus of their own."""

    documents: list[str] = Field(description="paths of the country's documents")


class Coverage(BaseModel):
    """What ``tipscan score`` writes to coverage.json."""

    tipscan_version: str
    created_at: str
    country: str | None
    model: dict[str, object]
    documents: list[DocumentCoverage]
    failures: list[Failure]
    corpus: CorpusCoverage
    countries: dict[str, CountryCoverage] = Field(
        default_factory=dict,
        description="per country, when the documents span several (by the metadata): that "
        "country's documents and coverage, computed as for the whole corpus; empty otherwise",
    )

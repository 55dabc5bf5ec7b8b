"""Text formats: Markdown, plain text, HTML, structured JSON and XML."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from ..errors import CorruptDocument, EmptyDocument, LimitExceeded, UnsafeDocument
from ..model import Document, Format
from .layout import _ENUM_START, _join_lines
from .limits import Limits
from .sniff import decode_text

_HEADING = re.compile(r"^(#{1,6})\s*(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)([^*_].*?)(\*\*|__)\s*:?\s*$")
_LIST = re.compile(r"^\s*([-*+•]|\d{1,3}[.)])\s+")
_TAG = re.compile(r"<[^>\n]{0,500}>")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)(?:[^\s,.;:]*\))?")
_EMPH = re.compile(r"(\*\*\*|\*\*|\*|___|__|(?<!\w)_(?=\S)|(?<=\S)_(?!\w))")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


# Named and numeric character references: "&ldquo;", "&amp;", "&#8212;", "&#x2014;".
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_entities(text: str) -> str:
    """Decode character references left in text (JSON and Markdown sources copied from web
    pages carry them; an XML or HTML parser decodes one level, a doubly escaped source keeps one)."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: html.unescape(m.group()), text)


def _builder():
    from . import DocumentBuilder

    class _Builder(DocumentBuilder):
        """Text sources: character references are decoded in every block and title."""

        def add(self, text: str, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("title"):
                kwargs["title"] = unescape_entities(kwargs["title"])
            super().add(unescape_entities(text), *args, **kwargs)

    return _Builder()


def _inline_markdown(text: str) -> str:
    text = _TAG.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = text.replace("`", "")
    text = _EMPH.sub("", text)
    return _ESCAPE.sub(r"\1", text)


def _paragraphs(lines: list[str]) -> Iterator[str]:
    """Blank-line paragraphs; a list item or numbered line starts a new one; hard breaks end one."""
    cur: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            if cur:
                yield _join_lines(cur)
                cur = []
            continue
        if cur and (_LIST.match(line) or _ENUM_START.match(line)):
            yield _join_lines(cur)
            cur = []
        cur.append(line)
        if raw.endswith("  ") or raw.endswith("\\"):
            yield _join_lines(cur)
            cur = []
    if cur:
        yield _join_lines(cur)


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\s*\n", re.S)


def _markdown(text: str, source: str) -> tuple[Any, str]:
    b = _builder()
    title: str | None = None
    front = _FRONT_MATTER.match(text)
    if front:
        text = text[front.end() :]
        m = re.search(r"^title:\s*[\"']?(.*?)[\"']?\s*$", front.group(1), re.M)
        if m:
            title = m.group(1).replace("\\_", " ")
    para: list[str] = []

    def flush() -> None:
        for p in _paragraphs(para):
            b.add(_inline_markdown(p))
        para.clear()

    for line in text.splitlines():
        m = _HEADING.match(line)
        bold = _BOLD_LINE.match(line)
        if m and m.group(2).strip():
            flush()
            heading = _inline_markdown(m.group(2))
            b.add(heading, "heading", level=len(m.group(1)))
            if title is None and len(heading) > 3:
                title = heading
        elif bold and len(bold.group(2)) < 160:
            flush()
            b.add(_inline_markdown(bold.group(2)), "heading", level=7)
        else:
            para.append(line)
    flush()
    return b, title or source


def _plain(text: str, source: str) -> tuple[Any, str]:
    b = _builder()
    for p in _paragraphs(text.splitlines()):
        b.add(p)
    first = next((blk for blk in b.blocks), None)
    return b, (b._parts[0][:200] if first else source)


_HTML_BLOCKS = "h1,h2,h3,h4,h5,h6,p,li,dt,dd,td,th,pre,blockquote,caption"
_HTML_BLOCK_TAGS = frozenset(_HTML_BLOCKS.split(","))


def _html(text: str, source: str) -> tuple[Any, str]:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(text)
    for bad in tree.css("script,style,noscript,template,nav,header,footer,svg"):
        bad.decompose()
    b = _builder()
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node else None
    root = tree.body or tree.root
    if root is None:
        return b, title or source
    for node in root.css(_HTML_BLOCKS):
        parent = node.parent
        nested = False
        while parent is not None:
            if parent.tag in _HTML_BLOCK_TAGS:
                nested = True
                break
            parent = parent.parent
        if nested:
            continue  # its text is part of the enclosing block
        tag = node.tag or ""
        content = node.text(separator=" ", strip=True)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            b.add(content, "heading", level=int(tag[1]))
            if title is None:
                title = content
        else:
            b.add(content)
    if not b.blocks:
        for p in _paragraphs(root.text(separator="\n").splitlines()):
            b.add(p)
    return b, title or source


_TEXT_KEYS = ("content", "text", "body", "provision", "paragraph")
_NUMBER_KEYS = ("section", "number", "article", "label", "num", "no")
_TITLE_KEYS = ("title", "heading", "marginal_note", "caption", "name")
_LIST_KEYS = ("provisions", "sections", "articles", "items", "paragraphs", "parts", "children")


def _first(d: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = d.get(k)
        if isinstance(v, (str, int)) and str(v).strip():
            return str(v).strip()
    return None


_CHAPTER_KEYS = ("chapter", "part", "division")
# A title that only names the unit ("Articolul 19") says how the document cites it.
_UNIT_TITLE = re.compile(
    r"^(?:Articolul|Articol|Art\.?|Article|Artículo|Artigo|Artikel|Section|Sec\.|§)\s*(?P<num>\S+?)\.?$"
)


def _chapter_headings(chapter: str, b: Any, paths: dict[str, list[str]]) -> None:
    """ "Partea generală | Titlul I - ... | Capitolul II - ...": headings where they change."""
    source = [unescape_entities(p.strip()) for p in chapter.split("|") if p.strip()]
    previous, said = paths["source"], paths["said"]
    changed = next(
        (k for k in range(min(len(source), len(previous))) if source[k] != previous[k]), None
    )
    parts = source
    if changed is not None:
        # A deeper part that stays the same when a higher one changes is left over from
        # the previous chapter in the source ("Capitolul II | Secţiunea a 2-a" of Capitolul I).
        stale = next(
            (
                k
                for k in range(changed + 1, min(len(source), len(previous)))
                if source[k] == previous[k]
            ),
            None,
        )
        if stale is not None:
            parts = source[:stale]
    else:
        parts = (
            said
            if source[: len(said)] == said and len(said) < len(source) == len(previous)
            else source
        )
    same = 0
    while same < min(len(parts), len(said)) and parts[same] == said[same]:
        same += 1
    if same == len(parts) < len(said):
        same -= 1  # a shorter path: said again, so that the deeper headings end
    for level, part in enumerate(parts[same:], start=same + 1):
        b.add(part, "heading", level=min(level, 6))
    paths["source"], paths["said"] = source, list(parts)


def _run_on_sections(
    content: str, number: str | None, following: set[str | None]
) -> list[tuple[str | None, str]]:
    """A section whose text runs on into the next ("... of the case. 10. General Duties ..."),
    where the source has no object of its own for the next number: two units."""
    if number is None or not number.isdigit() or str(int(number) + 1) in following:
        return [(number, content)]
    nxt = str(int(number) + 1)
    m = re.search(r"(?<=[.;\]])\s+" + nxt + r"\.\s+(?=[A-Z])", content)
    if m is None:
        return [(number, content)]
    return [(number, content[: m.start()]), (nxt, content[m.end() :])]


def _json_units(
    node: Any,
    b: Any,
    depth: int = 0,
    paths: dict[str, list[str]] | None = None,
    following: set[str | None] | None = None,
) -> None:
    if depth > 50:
        raise UnsafeDocument("the JSON is nested more than 50 levels deep")
    paths = {"source": [], "said": []} if paths is None else paths
    if isinstance(node, list):
        numbers = [_first(n, _NUMBER_KEYS) if isinstance(n, dict) else None for n in node]
        for k, item in enumerate(node):
            _json_units(item, b, depth + 1, paths, set(numbers[k + 1 : k + 3]))
        return
    if not isinstance(node, dict):
        return
    content = _first(node, _TEXT_KEYS)
    number = _first(node, _NUMBER_KEYS)
    title = _first(node, _TITLE_KEYS)
    chapter = _first(node, _CHAPTER_KEYS)
    if content and chapter:
        _chapter_headings(chapter, b, paths)
    named = _UNIT_TITLE.match(title or "")
    if number and named and named.group("num") == number:
        number, title = title, None  # the label "Articolul 19"; the content holds the title
    if content:
        # Sources often repeat "12. Title" at the start of the content.
        if number:
            prefix = re.escape(named.group("num") if named else number) + r"\s*[.)]?\s*"
            if title:
                prefix += r"(" + re.escape(title) + r")?\s*[.:\-–]?\s*"
            content = re.sub("^" + prefix, "", content, count=1)
        for label, text in _run_on_sections(content, number, following or set()):
            b.add(text, label=label, title=title if label == number else None)
    elif title and any(isinstance(node.get(k), list) for k in _LIST_KEYS):
        b.add(title, "heading", level=min(depth + 1, 6))
    for key in _LIST_KEYS:
        if isinstance(node.get(key), list):
            _json_units(node[key], b, depth + 1, paths)


def _json(text: str, source: str) -> tuple[Any, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptDocument(
            f"the JSON cannot be parsed: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise UnsafeDocument("the JSON is nested too deeply to read") from None
    b = _builder()
    title = None
    if isinstance(data, dict):
        title = _first(data, ("title_en", "title", "name", "short_name"))
    _json_units(
        data.get("provisions", data) if isinstance(data, dict) and "provisions" in data else data, b
    )
    if not b.blocks:
        raise EmptyDocument(
            "the JSON holds no passages: expected objects with a 'content' or 'text' field "
            "(optionally 'section' and 'title'), as a list or under 'provisions'"
        )
    return b, title or source


def _local(tag: Any) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) else ""


_XML_SKIP = {
    "HistoricalNote",
    "Footnote",
    "ReaderNote",
    "BillHistory",
    "RunningHead",
    "Identification",
    "RecentAmendments",
    "TableOfProvisions",
    "Note",
}
_XML_TEXT = {"Text", "p", "para", "Para", "P", "paragraph-text", "Definition"}


_XML_BLOCKISH = {
    "Paragraph",
    "Subparagraph",
    "Clause",
    "Subclause",
    "Text",
    "Definition",
    "ContinuedParagraph",
    "ContinuedSectionSubsection",
    "List",
    "Item",
    "Provision",
}


def _xml_text(el: Any) -> str:
    parts: list[str] = []

    def walk(e: Any) -> None:
        name = _local(e.tag)
        if name in _XML_SKIP or name in {"Label", "MarginalNote"}:
            if name == "Label" and e.text:
                parts.append(" " + e.text + " ")
            if e.tail:
                parts.append(e.tail)
            return
        if name in _XML_BLOCKISH:
            parts.append(" ")
        if e.text:
            parts.append(e.text)
        for c in e:
            walk(c)
        if e.tail:
            parts.append(e.tail)

    if el.text:
        parts.append(el.text)
    for c in el:
        walk(c)
    return " ".join("".join(parts).split())


def _xml(data: bytes, source: str) -> tuple[Any, str]:
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeDocument(
            f"the XML declares entities or external references, which are refused ({type(exc).__name__})"
        ) from None
    except Exception as exc:
        raise CorruptDocument(f"the XML cannot be parsed ({exc})") from None
    b = _builder()
    title = None
    for tag in ("ShortTitle", "LongTitle", "title", "Title"):
        found = next(
            (e for e in root.iter() if _local(e.tag) == tag and (e.text or "").strip()), None
        )
        if found is not None:
            title = " ".join((found.text or "").split())
            break

    def unit(el: Any, label: str | None, depth: int) -> None:
        """A section-like element: its own text first, then its numbered children."""
        own_label = None
        note = None
        for c in el:
            name = _local(c.tag)
            if name == "Label":
                own_label = " ".join((c.text or "").split())
            elif name == "MarginalNote":
                note = _xml_text(c) or " ".join("".join(c.itertext()).split())
        pending_label = label
        labelled = False
        for c in el:
            name = _local(c.tag)
            if name in _XML_SKIP or name in {"Label", "MarginalNote"}:
                continue
            if name in _XML_TEXT:
                text = _xml_text(c)
                if own_label and pending_label is None and not labelled:
                    text = f"{own_label} {text}"
                labelled = True
                b.add(text, label=pending_label, title=note if pending_label else None)
                pending_label = None
            elif len(c):
                unit(c, pending_label, depth + 1)
                pending_label = None

    def walk(el: Any, depth: int) -> None:
        if depth > 200:
            raise UnsafeDocument("the XML is nested more than 200 levels deep")
        name = _local(el.tag)
        if name in _XML_SKIP:
            return
        if name == "Heading":
            b.add(
                _xml_text(el) or " ".join("".join(el.itertext()).split()),
                "heading",
                level=int(el.get("level", "1")) if str(el.get("level", "1")).isdigit() else 1,
            )
            return
        if name == "Section":
            label = next(
                (" ".join((c.text or "").split()) for c in el if _local(c.tag) == "Label"), None
            )
            unit(el, label or None, depth)
            return
        if name in _XML_TEXT and not any(_local(c.tag) == "Section" for c in el):
            b.add(_xml_text(el))
            return
        for c in el:
            walk(c, depth + 1)

    walk(root, 0)
    if not b.blocks:
        for text in root.itertext():
            b.add(text)
    return b, title or source


def extract_textual(data: bytes, source: str, fmt: Format, limits: Limits) -> Document:
    if fmt == "xml":
        builder, title = _xml(data, source)
    else:
        text = decode_text(data)
        if len(text) > limits.max_text_chars:
            raise LimitExceeded(
                f"the text has {len(text):,} characters, over the limit of {limits.max_text_chars:,}"
            )
        if fmt == "html":
            builder, title = _html(text, source)
        elif fmt == "json":
            builder, title = _json(text, source)
        elif fmt == "markdown":
            builder, title = _markdown(text, source)
        else:
            builder, title = _plain(text, source)
    return builder.build(data, title=title, source=source, fmt=fmt)

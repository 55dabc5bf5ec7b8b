"""Bad and hostile inputs: each is reported on one clean line and never sinks a batch.

Every CLI test runs a real batch ``good, bad, good`` through the ``tipscan
extract`` command (Typer's CliRunner on ``service.cli.app``, so each file is
still extracted in its own forked, bounded child; a few tests run ``python -m
service.cli`` as a real process) and checks: exit code 1, exactly one stderr
line ``tipscan: BAD: message`` with the expected words and no traceback, and
the good files' passages on stdout exactly as when they are extracted alone.
Every bad input is built at test time in tmp_path (from corpus bytes where a
base document is needed). A direct ``extract_document`` test checks the error
class and code where that is cheap.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.errors import (
    CorruptDocument,
    DocumentTimeout,
    EmptyDocument,
    EncryptedDocument,
    LimitExceeded,
    TipscanError,
    UnsafeDocument,
    UnsupportedFormat,
)
from service.extract import Limits, extract_document

from . import hostile as H

ROOT = Path(__file__).resolve().parents[1]
GOOD_PDF = H.PDF_10_PAGES  # 34 kB
GOOD_MD = H.CORPUS / "usa" / "18-usc-ch209-extradition.md"  # 15.5 kB
GOOD_MD2 = H.CORPUS / "usa" / "wh-fact-sheet-national-action-plan-combat-human-trafficking-2021.md"
GOODS = (GOOD_PDF, GOOD_MD)
# No hostile file may hold a batch up for long: a hang or a crawl is a failure too.

pytestmark = pytest.mark.skipif(not GOOD_PDF.is_file(), reason="needs the corpus")


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Load the parsers and models once here, so the forked per-file children start warm."""
    from service.segment import segment_document

    for path in (GOOD_PDF, GOOD_MD):
        segment_document(extract_document(path.read_bytes(), path.name))


def _cli(*args: str | Path, process: bool = False) -> tuple[int, str, str, float]:
    """Run ``tipscan extract ARGS``: (exit code, stdout, stderr, seconds)."""
    argv = ["extract", *map(str, args)]
    t0 = time.monotonic()
    if process:
        proc = subprocess.run(
            [sys.executable, "-m", "service.cli", *argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr, time.monotonic() - t0


_BASELINE: dict[tuple[Path, str], list[str]] = {}


def _alone(path: Path, engine: str = "pdfium") -> list[str]:
    """The JSONL lines a good file gives when extracted on its own (cached)."""
    key = (path, engine)
    if key not in _BASELINE:
        rc, out, err, _ = _cli(path, "--engine", engine)
        assert rc == 0, err
        assert err == "", err
        lines = out.splitlines()
        assert lines, f"{path.name} gives no passages on its own"
        _BASELINE[key] = lines
    return _BASELINE[key]


def _words(message: str, *words: str) -> None:
    low = message.lower()
    missing = [w for w in words if w.lower() not in low]
    assert not missing, f"message {message!r} lacks {missing}"


def batch(
    bad: Path,
    *options: str,
    goods: tuple[Path, Path] = GOODS,
    engine: str = "pdfium",
    process: bool = False,
) -> str:
    """Run ``good bad good``; check the batch contract; return the bad file's stderr message."""
    rc, stdout, stderr, took = _cli(
        goods[0], bad, goods[1], "--engine", engine, *options, process=process
    )
    report = f"rc={rc} took={took:.1f}s\nstderr:\n{stderr[-3000:]}"
    assert "Traceback" not in stderr, report
    assert rc == 1, report
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line\n{report}"
    prefix = f"tipscan: {bad}: "
    assert lines[0].startswith(prefix), report
    out = stdout.splitlines()
    want = _alone(goods[0], engine) + _alone(goods[1], engine)
    got_ids = [json.loads(line)["id"] for line in out]
    want_ids = [json.loads(line)["id"] for line in want]
    assert len(got_ids) == len(want_ids), f"{len(got_ids)} passages, want {len(want_ids)}"
    assert got_ids == want_ids
    assert out == want
    return lines[0][len(prefix) :]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _raises(data: bytes, cls: type[TipscanError], **kw) -> TipscanError:  # type: ignore[no-untyped-def]
    with pytest.raises(TipscanError) as info:
        extract_document(data, "bad", **kw)
    exc = info.value
    assert isinstance(exc, cls), f"{type(exc).__name__}: {exc}"
    assert exc.code == cls.code
    assert exc.message and "\n" not in exc.message
    return exc


# --- encrypted, corrupt, empty ------------------------------------------------------


def test_encrypted_pdf_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "encrypted.pdf", H.encrypted_pdf(H.PDF_26_PAGES))
    _words(batch(bad, process=True), "encrypted", "password")


def test_encrypted_pdf_batch_pdfplumber(tmp_path: Path) -> None:
    bad = _write(tmp_path, "encrypted.pdf", H.encrypted_pdf(H.PDF_26_PAGES))
    _words(batch(bad, engine="pdfplumber"), "encrypted", "password")


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_encrypted_pdf_direct(engine: str) -> None:
    exc = _raises(H.encrypted_pdf(), EncryptedDocument, engine=engine)
    _words(exc.message, "encrypted", "password")


def test_truncated_pdf_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "truncated.pdf", H.truncated_pdf(keep=0.5))
    _words(batch(bad), "PDF", "cannot be read")


def test_garbage_after_pdf_header_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "garbage.pdf", H.garbage_pdf())
    _words(batch(bad), "PDF", "cannot be read")


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
@pytest.mark.parametrize("keep", [0.02, 0.5, 0.98])
def test_truncated_pdf_direct(engine: str, keep: float) -> None:
    _raises(H.truncated_pdf(keep=keep), CorruptDocument, engine=engine)


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_garbage_after_pdf_header_direct(engine: str) -> None:
    _raises(H.garbage_pdf(), CorruptDocument, engine=engine)


def test_zero_byte_file_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "empty.pdf", b"")
    _words(batch(bad), "empty", "0 bytes")


def test_zero_byte_file_direct() -> None:
    _raises(b"", EmptyDocument)


# --- not documents --------------------------------------------------------------------


NOT_DOCUMENTS = {
    "png-named-pdf": ("image.pdf", H.png_bytes, ("PNG image", "not a document")),
    "zip-named-docx": ("archive.docx", H.zip_not_docx, ("zip archive", "not a document")),
    "elf-named-pdf": ("program.pdf", H.elf_bytes, ("executable", "not a document")),
    "random-bytes": ("random.bin", H.random_bytes, ("binary data", "unknown kind")),
}


@pytest.mark.parametrize("case", list(NOT_DOCUMENTS))
def test_not_a_document_batch(tmp_path: Path, case: str) -> None:
    name, build, words = NOT_DOCUMENTS[case]
    bad = _write(tmp_path, name, build())
    _words(batch(bad), *words)


@pytest.mark.parametrize("case", list(NOT_DOCUMENTS))
def test_not_a_document_direct(case: str) -> None:
    _, build, words = NOT_DOCUMENTS[case]
    _words(_raises(build(), UnsupportedFormat).message, *words)


# --- limits ---------------------------------------------------------------------------


def test_page_limit_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "long.pdf", H.PDF_26_PAGES.read_bytes())
    # The good PDF has 10 pages, under the limit.
    _words(batch(bad, "--max-pages", "12"), "26 pages", "limit of 12", "--max-pages")


def test_page_limit_direct() -> None:
    _raises(H.PDF_26_PAGES.read_bytes(), LimitExceeded, limits=Limits(max_pages=5))


def test_byte_limit_batch(tmp_path: Path) -> None:
    # The good files are under 16,000 bytes; the bad one is a real 89 kB PDF.
    bad = _write(tmp_path, "big.pdf", H.PDF_26_PAGES.read_bytes())
    msg = batch(bad, "--max-bytes", "16000", goods=(GOOD_MD, GOOD_MD2))
    _words(msg, "bytes", "limit", "16,000", "--max-bytes")


def test_byte_limit_direct() -> None:
    _raises(H.PDF_26_PAGES.read_bytes(), LimitExceeded, limits=Limits(max_bytes=1000))


def test_time_limit_batch(tmp_path: Path) -> None:
    # Markdown goods: a 1 ms budget is spent before a PDF's first page is read.
    bad = _write(tmp_path, "slow.pdf", H.PDF_26_PAGES.read_bytes())
    msg = batch(bad, "--timeout", "0.001", goods=(GOOD_MD, GOOD_MD2))
    _words(msg, "took longer than", "0.001 s", "--timeout")


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_time_limit_direct(engine: str) -> None:
    _raises(
        H.PDF_26_PAGES.read_bytes(), DocumentTimeout, engine=engine, limits=Limits(timeout_s=0.001)
    )


def test_many_pages_default_limit_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "many.pdf", H.many_pages_pdf(20_000))
    _words(batch(bad), "20000 pages", "limit of 5000")


def test_many_pages_lowered_limit_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "many.pdf", H.many_pages_pdf(20_000))
    _words(batch(bad, "--max-pages", "100"), "20000 pages", "limit of 100")


def test_many_pages_direct() -> None:
    _raises(H.many_pages_pdf(20_000), LimitExceeded)


# --- hostile archives and markup ----------------------------------------------------------


def test_docx_zip_bomb_batch(tmp_path: Path) -> None:
    bad = tmp_path / "bomb.docx"
    H.docx_bomb(bad)
    assert bad.stat().st_size < 2_000_000
    _words(batch(bad), "DOCX", "archive bomb")


def test_docx_zip_bomb_direct(tmp_path: Path) -> None:
    bad = tmp_path / "bomb.docx"
    H.docx_bomb(bad)
    _raises(bad.read_bytes(), UnsafeDocument)


def test_docx_zip_bomb_lying_sizes_batch(tmp_path: Path) -> None:
    bad = tmp_path / "liar.docx"
    H.docx_bomb(bad, lie_about_size=True)
    msg = batch(bad)
    assert re.search(r"\bDOCX\b", msg), msg


def test_docx_zip_bomb_lying_sizes_direct(tmp_path: Path) -> None:
    bad = tmp_path / "liar.docx"
    H.docx_bomb(bad, lie_about_size=True)
    with pytest.raises(TipscanError) as info:
        extract_document(bad.read_bytes(), "liar.docx")
    assert info.value.code in {UnsafeDocument.code, CorruptDocument.code}


def test_docx_billion_laughs_batch(tmp_path: Path) -> None:
    bad = tmp_path / "laughs.docx"
    H.docx_billion_laughs(bad)
    _words(batch(bad), "DOCX", "entities", "refused")


def test_docx_billion_laughs_direct(tmp_path: Path) -> None:
    bad = tmp_path / "laughs.docx"
    H.docx_billion_laughs(bad)
    _raises(bad.read_bytes(), UnsafeDocument)


def test_docx_billion_laughs_after_padding_batch(tmp_path: Path) -> None:
    # The DTD sits after a 5 kB comment, past where a quick look at the head would see it.
    bad = tmp_path / "laughs-padded.docx"
    H.docx_billion_laughs(bad, pad=5000)
    _words(batch(bad), "DOCX", "entities", "refused")


def test_docx_billion_laughs_after_padding_direct(tmp_path: Path) -> None:
    bad = tmp_path / "laughs-padded.docx"
    H.docx_billion_laughs(bad, pad=5000)
    _raises(bad.read_bytes(), UnsafeDocument)


def test_xml_billion_laughs_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "laughs.xml", H.xml_billion_laughs())
    _words(batch(bad), "XML", "entities", "refused")


def test_xml_billion_laughs_direct() -> None:
    _raises(H.xml_billion_laughs(), UnsafeDocument)


# --- hostile PDFs ---------------------------------------------------------------------------

_NESTED_OK_CODES = {EmptyDocument.code, CorruptDocument.code, UnsafeDocument.code}


def test_pdf_nested_array_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "nested.pdf", H.nested_array_pdf(100_000))
    msg = batch(bad)
    assert re.search(r"no text|nested|cannot be read", msg), msg


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_pdf_nested_array_direct(engine: str) -> None:
    with pytest.raises(TipscanError) as info:
        extract_document(H.nested_array_pdf(100_000), "nested.pdf", engine=engine)
    assert info.value.code in _NESTED_OK_CODES


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_pdf_nested_contents_batch(tmp_path: Path, engine: str) -> None:
    # A real process: anything a parser writes to the child's stderr shows up there.
    bad = _write(tmp_path, "nested-contents.pdf", H.nested_array_pdf(100_000, as_contents=True))
    msg = batch(bad, engine=engine, process=True)
    assert re.search(r"no text|nested|cannot be read", msg), msg


def test_pdf_deep_page_tree_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "deeptree.pdf", H.deep_page_tree_pdf(20_000))
    msg = batch(bad)
    # A message from the catalogue ("the PDF ..."), not the batch's last-resort fallback.
    assert re.search(r"\bPDF\b", msg), msg
    assert re.search(r"nested|cannot be read|damaged", msg), msg


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_pdf_deep_page_tree_direct(engine: str) -> None:
    with pytest.raises(TipscanError) as info:
        extract_document(H.deep_page_tree_pdf(20_000), "deeptree.pdf", engine=engine)
    assert info.value.code in _NESTED_OK_CODES


def test_pdf_huge_page_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "huge.pdf", H.huge_page_pdf(200_000))
    _words(batch(bad), "too large")


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_pdf_huge_page_direct(engine: str) -> None:
    with pytest.raises(TipscanError) as info:
        extract_document(H.huge_page_pdf(200_000), "huge.pdf", engine=engine)
    _words(info.value.message, "too large")


def test_pdf_huge_page_beside_text_page_warns(tmp_path: Path) -> None:
    """The huge page is skipped with a warning; the text page and the goods go through."""
    doc = _write(tmp_path, "huge-and-text.pdf", H.huge_page_pdf(200_000, with_text_page=True))
    rc, stdout, stderr, _ = _cli(GOOD_PDF, doc, GOOD_MD)
    assert "Traceback" not in stderr, stderr
    assert rc == 0, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"tipscan: {doc}: warning: "), lines[0]
    _words(lines[0], "page 1", "too large to OCR")
    out = stdout.splitlines()
    texts = [json.loads(line)["text"] for line in out]
    assert any("may be cited as the Trafficking in Persons Prevention Act" in t for t in texts), (
        texts
    )
    good = _alone(GOOD_PDF) + _alone(GOOD_MD)
    assert [line for line in out if line in good] == good


# --- JSON -------------------------------------------------------------------------------------


def test_malformed_json_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "broken.json", H.malformed_json())
    _words(batch(bad), "JSON", "parse")


def test_malformed_json_direct() -> None:
    _raises(H.malformed_json(), CorruptDocument)


def test_deeply_nested_json_batch(tmp_path: Path) -> None:
    bad = _write(tmp_path, "deep.json", H.deep_json(10_000))
    _words(batch(bad, process=True), "nested")


def test_deeply_nested_json_direct() -> None:
    with pytest.raises(TipscanError) as info:
        extract_document(H.deep_json(10_000), "deep.json")
    assert info.value.code in {UnsafeDocument.code, CorruptDocument.code}
    _words(info.value.message, "JSON")

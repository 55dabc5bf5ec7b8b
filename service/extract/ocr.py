"""OCR for pages without a text layer, through Tesseract when it is installed."""

from __future__ import annotations

import os
import shutil
from functools import cache

from .layout import LayoutPage, Line
from .limits import Limits

# Tesseract's OpenMP threads spin while they wait: beside other workers (tipscan runs
# documents in parallel) a page takes about three times as long as on one thread, for
# the same text. Set before Tesseract runs; a value the user set is kept.
_ONE_THREAD = {"OMP_THREAD_LIMIT": "1"}

# Tesseract language packs for the corpus languages, used when installed.
_WANTED = ("eng", "nld", "spa", "fra", "swe")


@cache
def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


@cache
def _languages() -> str:
    import pytesseract

    try:
        have = set(pytesseract.get_languages(config=""))
    except Exception:
        have = {"eng"}
    langs = [lang for lang in _WANTED if lang in have]
    return "+".join(langs or ["eng"])


def render_scale(width_pt: float, height_pt: float, limits: Limits) -> float | None:
    """Render scale (pixels per point) for OCR, or None if the page is too big at any useful dpi."""
    scale = limits.ocr_dpi / 72.0
    pixels = width_pt * height_pt * scale * scale
    if pixels > limits.max_ocr_pixels:
        scale = (limits.max_ocr_pixels / (width_pt * height_pt)) ** 0.5
    # Below ~100 dpi Tesseract reads body text poorly; such a page is absurdly large.
    if scale * 72.0 < 100:
        return None
    return scale


def ocr_image(
    image: object, number: int, width_pt: float, height_pt: float, scale: float
) -> LayoutPage:
    """OCR a rendered page image into the neutral layout form (coordinates in points)."""
    import pytesseract

    for name, value in _ONE_THREAD.items():
        os.environ.setdefault(name, value)
    data = pytesseract.image_to_data(image, lang=_languages(), output_type=pytesseract.Output.DICT)
    words: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(data["text"]):
        if word and word.strip() and float(data["conf"][i]) >= 0:
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            words.setdefault(key, []).append(i)
    lines: list[Line] = []
    for idx in words.values():
        x0 = min(data["left"][i] for i in idx) / scale
        top = min(data["top"][i] for i in idx) / scale
        x1 = max(data["left"][i] + data["width"][i] for i in idx) / scale
        bottom = max(data["top"][i] + data["height"][i] for i in idx) / scale
        text = " ".join(data["text"][i] for i in idx)
        lines.append(Line(text, x0, top, x1, bottom, bottom - top))
    return LayoutPage(number, width_pt, height_pt, lines, ocr=True)

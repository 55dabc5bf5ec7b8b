"""Bounds on what one document may cost: bytes, pages, time, OCR pixels, archives."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 200 * 1024 * 1024
    max_pages: int = 5000
    timeout_s: float = 300.0
    # An OCR render larger than this (in pixels) is scaled down; a page that
    # would still need more is reported unreadable rather than rendered.
    max_ocr_pixels: int = 40_000_000
    ocr_dpi: int = 300
    # DOCX and other zip containers: total uncompressed size and ratio.
    max_unzipped_bytes: int = 100 * 1024 * 1024
    max_zip_ratio: float = 200.0
    max_text_chars: int = 50_000_000


DEFAULT_LIMITS = Limits()
# Address space an extraction child may use (its RLIMIT_AS).
DEFAULT_MAX_MEMORY = 4 * 2**30

"""PDF rendering with WeasyPrint, fetching nothing but the portal's own static files and
``data:`` URLs: a letter must render the same in ten years and never reach outside.

Letters are archival and accessible: PDF/A-2 level A (tagged: headings, tables with their
headers, reading order), identified as PDF/UA-1 as well, each part in another language marked
as such, with title, author and subject. Each is signed as it is rendered (``signing``).
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from itertools import repeat
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pydyf
import segno
from flask import current_app
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.css import ColorProfile
from weasyprint.document import Document
from weasyprint.pdf import tags as pdf_tags
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .signing import PdfBox, Seal, SignatureText, sign

# The base URL letter HTML is rendered against: relative links resolve under it.
LETTER_BASE = "https://letter.invalid/"
STATIC_PREFIX = LETTER_BASE + "static/"


class RefusedFetch(ValueError):
    pass


class AllowListFetcher(URLFetcher):
    """Serves ``data:`` URLs and files under the app's static folder; refuses the rest.

    Every request is recorded in ``requests`` and every refusal in ``refused``, so tests
    can prove what a render tried to reach.
    """

    def __init__(self, static_folder: str | Path) -> None:
        super().__init__(allowed_protocols=("data", "https"), allow_redirects=False, timeout=1)
        self.static_root = Path(static_folder).resolve()
        self.requests: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.requests.append(url)
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(STATIC_PREFIX):
            path = (self.static_root / unquote(urlsplit(url).path).removeprefix("/static/")).resolve()
            if path.is_file() and path.is_relative_to(self.static_root):
                return URLFetcherResponse(url, path.read_bytes(), {}, 200)
        self.refused.append(url)
        raise RefusedFetch(f"letters may not fetch {url}")


def qr_svg(payload: str) -> Markup:
    """A QR code as inline SVG markup (no image file, nothing to fetch).

    The mask is fixed: any of the eight is valid, and scoring all of them costs more than
    a tenth of the render for no gain on a printed, high-contrast code.
    """
    code = segno.make(payload, error="m", mask=0, micro=False)
    return Markup(code.svg_inline(scale=3, border=2, omitsize=False))


def render_html(template: str, context: dict[str, Any]) -> str:
    """The letter's HTML from plain values. No context processors run: no request state,
    no ORM objects reach a letter."""
    return current_app.jinja_env.get_template(template).render(**context)


# PDF/A-2, level A: archival (fonts embedded, colours defined) and tagged.
PDF_VARIANT = "pdf/a-2a"
# The element of the letter's footer the signature's widget is placed over (letters/_layout.html).
SIGNATURE_BLOCK_ID = "signature-block"
PDFUA_PART = (b'<rdf:Description xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" rdf:about="" '
              b'pdfuaid:part="1"/>')


@dataclass(frozen=True)
class LetterJob:
    """One letter to make: its HTML, what its signature says, and the seal that signs it."""

    html: str
    signature: SignatureText
    seal: Seal


def _build_box_tree_with_languages(box: Any, parent: Any, *args: Any) -> Iterator[Any]:
    """WeasyPrint's tagging, plus each element's own language: it marks only the document's,
    and a letter in English and Russian must say which part is which (PDF/UA, screen readers)."""
    for element in _weasyprint_build_box_tree(box, parent, *args):
        source = getattr(getattr(box, "_box", box), "element", None)
        language = source.get("lang") if source is not None and source.tag not in ("html", "body") else None
        if language and "Lang" not in element:
            element["Lang"] = pydyf.String(language)
        yield element


# It calls itself through the module's name, so every element down the tree passes here. A
# WeasyPrint without it leaves the parts unmarked (tests/letters/test_signed_letters.py says so).
_weasyprint_build_box_tree: Any = getattr(pdf_tags, "_build_box_tree", None)
if _weasyprint_build_box_tree is not None:
    pdf_tags._build_box_tree = _build_box_tree_with_languages


def _claims_pdfua(generate: Any) -> Any:
    def generate_rdf_metadata(*args: Any, **kwargs: Any) -> bytes:
        return generate(*args, **kwargs).replace(b"</rdf:RDF>", PDFUA_PART + b"</rdf:RDF>")
    return generate_rdf_metadata


def _signature_box(document: Document) -> PdfBox | None:
    """Where the footer's signature block is on the last page, in PDF points from the bottom left."""
    page = document.pages[-1]
    anchor = page.anchors.get(SIGNATURE_BLOCK_ID)
    if anchor is None:
        return None
    left, top, right, bottom = anchor
    return (left * 0.75, (page.height - bottom) * 0.75, right * 0.75, (page.height - top) * 0.75)


# The output intent PDF/A asks for. WeasyPrint's own ("srgb") opens the profile's file and leaves it
# open on every render; this one is read once and parsed per render (its PDF reference is per file).
SRGB_ICC = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
OUTPUT_INTENT = "letter-srgb"


_THREAD = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's font configuration: the fonts are found and loaded once per thread, not
    for every letter (a seventh of a render). Never shared between threads."""
    config = getattr(_THREAD, "font_config", None)
    if config is None:
        config = _THREAD.font_config = FontConfiguration()
    return config


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for one render: WeasyPrint makes hundreds of thousands
    of short-lived objects, and each collection they trigger walks the whole app's heap (a
    sixteenth of a render). Whatever cycles the render leaves are collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render_pdf(html: str, fetcher: AllowListFetcher | None = None) -> tuple[bytes, PdfBox | None]:
    """The letter as an unsigned PDF/A-2a, and where its signature block is."""
    fetcher = fetcher or AllowListFetcher(current_app.static_folder or "")
    profiles = {OUTPUT_INTENT: ColorProfile(io.BytesIO(SRGB_ICC), "sRGB2014.icc", "relative-colorimetric",
                                            (["r"], ["g"], ["b"]))}
    with _collector_paused():
        document = HTML(string=html, base_url=LETTER_BASE, url_fetcher=fetcher).render(
            font_config=_font_config(), color_profiles=profiles, pdf_variant=PDF_VARIANT,
            output_intent=OUTPUT_INTENT)
        # PDF/A and PDF/UA at once: WeasyPrint writes one identification; the other is added here.
        document.metadata.generate_rdf_metadata = _claims_pdfua(document.metadata.generate_rdf_metadata)
        return (document.write_pdf(pdf_variant=PDF_VARIANT, output_intent=OUTPUT_INTENT),
                _signature_box(document))


def html_to_pdf(html: str, fetcher: AllowListFetcher | None = None) -> bytes:
    """The letter as rendered, before it is signed."""
    return render_pdf(html, fetcher)[0]


def make_letter(job: LetterJob, static_folder: str) -> bytes:
    """Render and sign one letter: what a worker process runs (no app, no database)."""
    with _collector_paused():  # the signature's ASN.1 makes short-lived objects by the thousand too
        pdf, box = render_pdf(job.html, AllowListFetcher(static_folder))
        return sign(pdf, job.seal, job.signature, box)


class PdfPool:
    """Renders many letters on several processes: WeasyPrint keeps one core busy per letter.

    Use as a context manager and pass it as ``render`` to ``issue_many``. With one worker,
    or for a single letter, it renders in this process. Each worker signs what it renders.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.static_folder = current_app.static_folder or ""
        self.executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> PdfPool:
        if self.workers > 1:
            # "spawn": a worker starts clean, never with a copy of this process's connections or threads.
            self.executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    def __call__(self, jobs: list[LetterJob]) -> list[bytes]:
        if self.executor is None or len(jobs) < 2:
            return [make_letter(job, self.static_folder) for job in jobs]
        chunk = max(1, len(jobs) // (self.workers * 4))
        return list(self.executor.map(make_letter, jobs, repeat(self.static_folder), chunksize=chunk))

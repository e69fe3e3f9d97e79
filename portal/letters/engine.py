"""PDF rendering with WeasyPrint, fetching nothing but the portal's own static files and
``data:`` URLs: a letter must render the same in ten years and never reach outside."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import segno
from flask import current_app
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

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


def html_to_pdf(html: str, fetcher: AllowListFetcher | None = None) -> bytes:
    fetcher = fetcher or AllowListFetcher(current_app.static_folder or "")
    return HTML(string=html, base_url=LETTER_BASE, url_fetcher=fetcher).write_pdf()


def _render_in_worker(html: str, static_folder: str) -> bytes:
    """What a worker process runs: no app, no database, only HTML in and PDF out."""
    return html_to_pdf(html, AllowListFetcher(static_folder))


class PdfPool:
    """Renders many letters on several processes: WeasyPrint keeps one core busy per letter.

    Use as a context manager and pass it as ``render`` to ``issue_many``. With one worker,
    or for a single letter, it renders in this process.
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

    def __call__(self, pages: list[str]) -> list[bytes]:
        if self.executor is None or len(pages) < 2:
            return [_render_in_worker(html, self.static_folder) for html in pages]
        chunk = max(1, len(pages) // (self.workers * 4))
        return list(self.executor.map(_render_in_worker, pages, repeat(self.static_folder), chunksize=chunk))
